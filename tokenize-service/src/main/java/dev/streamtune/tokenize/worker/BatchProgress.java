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
 * <p>A recipe with {@code train_size} notes besides, per partition of {@code examples}, how many training examples
 * it used below the committed position ({@link TrainSize}).
 *
 * <p>Written as {@code v1;from=0:1234,1:0;next=42} (and {@code ;trained=0:67,1:12} with train_size): a few bytes per
 * partition, far below the broker's limit on offset metadata ({@code offset.metadata.max.bytes}, 4,096 by default).
 * A note without {@code trained} (an earlier version's) reads as nothing used yet.
 *
 * @param batchesFrom        per partition of {@code batches}, the offset a restart reads the recipe's batches from
 * @param nextSequenceNumber the number following the last batch acknowledged before the commit
 * @param trained            per partition of {@code examples}, the training examples used below the commit position
 *                           (train_size only; empty otherwise)
 */
record BatchProgress(Map<Integer, Long> batchesFrom, long nextSequenceNumber, Map<Integer, Long> trained) {

    private static final String VERSION = "v1";

    BatchProgress {
        batchesFrom = Map.copyOf(batchesFrom);
        trained = Map.copyOf(trained);
    }

    BatchProgress(Map<Integer, Long> batchesFrom, long nextSequenceNumber) {
        this(batchesFrom, nextSequenceNumber, Map.of());
    }

    /** The same progress, noting the training examples used per partition of {@code examples}. */
    BatchProgress withTrained(Map<Integer, Long> used) {
        return new BatchProgress(batchesFrom, nextSequenceNumber, used);
    }

    String note() {
        StringBuilder note = new StringBuilder(VERSION).append(";from=");
        appendOffsets(note, batchesFrom);
        note.append(";next=").append(nextSequenceNumber);
        if (!trained.isEmpty()) {
            appendOffsets(note.append(";trained="), trained);
        }
        return note.toString();
    }

    private static void appendOffsets(StringBuilder note, Map<Integer, Long> perPartition) {
        String separator = "";
        for (Map.Entry<Integer, Long> entry : new TreeMap<>(perPartition).entrySet()) {
            note.append(separator).append(entry.getKey()).append(':').append(entry.getValue());
            separator = ",";
        }
    }

    private static Map<Integer, Long> parseOffsets(String list) {
        Map<Integer, Long> perPartition = new TreeMap<>();
        for (String pair : list.isEmpty() ? new String[0] : list.split(",")) {
            int colon = pair.indexOf(':');
            perPartition.put(Integer.parseInt(pair.substring(0, colon)), Long.parseLong(pair.substring(colon + 1)));
        }
        return perPartition;
    }

    /** The progress a note states; empty for a commit without one (an earlier version's, or another tool's). */
    static Optional<BatchProgress> parse(String note) {
        if (note == null || !note.startsWith(VERSION + ";")) {
            return Optional.empty();
        }
        try {
            Map<Integer, Long> from = new TreeMap<>();
            Map<Integer, Long> trained = Map.of();
            long next = -1;
            for (String part : note.substring(VERSION.length() + 1).split(";")) {
                if (part.startsWith("from=")) {
                    from = parseOffsets(part.substring("from=".length()));
                } else if (part.startsWith("next=")) {
                    next = Long.parseLong(part.substring("next=".length()));
                } else if (part.startsWith("trained=")) {
                    trained = parseOffsets(part.substring("trained=".length()));
                }
            }
            return next < 0 ? Optional.empty() : Optional.of(new BatchProgress(from, next, trained));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The progress of several notes at once (one per committed partition of {@code examples}, noted at different
     * commits): the earliest place to read from on each partition of {@code batches}, the highest number reached.
     * Its {@code trained} is empty: each partition's count is read from that partition's own note, which was
     * committed together with its position.
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
