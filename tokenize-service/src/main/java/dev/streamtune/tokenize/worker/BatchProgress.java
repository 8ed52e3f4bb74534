package dev.streamtune.tokenize.worker;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a recipe's tokenize worker notes with each commit of its {@code examples} positions (Kafka's offset metadata),
 * so that a restart need not read the whole {@code batches} topic: every batch that can hold an example at or past
 * the committed positions lies at or after {@code batchesFrom} on its partition of {@code batches}, and the batches
 * before the commit were numbered below {@code nextSequenceNumber}.
 *
 * <p>Written as {@code v1;from=0:1234,1:0;next=42}: a few bytes per partition of {@code batches}, far below the
 * broker's limit on offset metadata ({@code offset.metadata.max.bytes}, 4,096 by default).
 *
 * @param batchesFrom        per partition of {@code batches}, the offset a restart reads the recipe's batches from
 * @param nextSequenceNumber the number following the last batch acknowledged before the commit
 */
record BatchProgress(Map<Integer, Long> batchesFrom, long nextSequenceNumber) {

    private static final String VERSION = "v1";

    BatchProgress {
        batchesFrom = Map.copyOf(batchesFrom);
    }

    String note() {
        StringBuilder note = new StringBuilder(VERSION).append(";from=");
        String separator = "";
        for (Map.Entry<Integer, Long> from : new TreeMap<>(batchesFrom).entrySet()) {
            note.append(separator).append(from.getKey()).append(':').append(from.getValue());
            separator = ",";
        }
        return note.append(";next=").append(nextSequenceNumber).toString();
    }

    /** The progress a note states; empty for a commit without one (an earlier version's, or another tool's). */
    static Optional<BatchProgress> parse(String note) {
        if (note == null || !note.startsWith(VERSION + ";")) {
            return Optional.empty();
        }
        try {
            Map<Integer, Long> from = new TreeMap<>();
            long next = -1;
            for (String part : note.substring(VERSION.length() + 1).split(";")) {
                if (part.startsWith("from=")) {
                    String list = part.substring("from=".length());
                    for (String pair : list.isEmpty() ? new String[0] : list.split(",")) {
                        int colon = pair.indexOf(':');
                        from.put(Integer.parseInt(pair.substring(0, colon)), Long.parseLong(pair.substring(colon + 1)));
                    }
                } else if (part.startsWith("next=")) {
                    next = Long.parseLong(part.substring("next=".length()));
                }
            }
            return next < 0 ? Optional.empty() : Optional.of(new BatchProgress(from, next));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The progress of several notes at once (one per committed partition of {@code examples}, noted at different
     * commits): the earliest place to read from on each partition of {@code batches}, the highest number reached.
     */
    static BatchProgress earliest(Collection<BatchProgress> notes) {
        Map<Integer, Long> from = new TreeMap<>();
        long next = 0;
        for (BatchProgress progress : notes) {
            progress.batchesFrom().forEach((partition, offset) -> from.merge(partition, offset, Math::min));
            next = Math.max(next, progress.nextSequenceNumber());
        }
        return new BatchProgress(from, next);
    }
}
