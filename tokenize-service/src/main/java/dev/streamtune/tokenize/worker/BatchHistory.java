package dev.streamtune.tokenize.worker;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.streams.TopicReader;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a recipe's batches on the {@code batches} topic already hold, as far as a restart can meet it again: the exact
 * keys of the examples in them (windows {@code #n} and mixing copies {@code ~n} as they are, so that a window or a
 * copy that was still buffered when a worker died is told apart from one that was published), and a
 * {@link BatchLedger} that goes on from them. Read without a consumer group, from where the last commit's
 * {@link BatchProgress} says up to the end offsets at the time of reading: a slice bounded by what the worker
 * buffered, not the whole topic.
 *
 * @param from        per partition of {@code batches}, where the reading began (a partition not named: its beginning)
 * @param batchesRead how many of the recipe's batches were read back
 */
record BatchHistory(Map<Integer, Long> from, Set<String> exampleKeys, BatchLedger ledger, long batchesRead) {

    /** Nothing to read back: the recipe's batches, if any ever come, start at {@code batchesEnd}. */
    static BatchHistory none(Map<Integer, Long> batchesEnd) {
        return new BatchHistory(batchesEnd, Set.of(), new BatchLedger(batchesEnd, 0), 0);
    }

    /**
     * The recipe's batches from {@code progress} on (a partition of {@code batches} it does not name: from its
     * beginning), numbered on from at least its {@code nextSequenceNumber}.
     */
    static BatchHistory read(TopicReader reader, String recipeId, BatchProgress progress) {
        Map<Integer, Long> end = batchesEnd(reader);
        Reading reading = new Reading(recipeId, progress.batchesFrom(), progress.nextSequenceNumber(), end);
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        reader.forEachBetween(Topics.BATCHES, progress.batchesFrom(), end, record -> {
            if (recipeId.equals(record.key()) && record.value() != null) {
                reading.add(record.partition(), record.offset(), batches.deserialize(record.topic(), record.value()));
            }
        });
        return reading.history();
    }

    /** The batches of a slice of the topic folded into a history, in the order they lie on each partition. */
    static final class Reading {
        private final String recipeId;
        private final Map<Integer, Long> from;
        private final BatchLedger ledger;
        private final Set<String> keys = new HashSet<>();
        private long read;

        /**
         * @param from       per partition of {@code batches}, where the reading begins
         * @param batchesEnd per partition of {@code batches}, its end offset when the reading began
         */
        Reading(String recipeId, Map<Integer, Long> from, long nextSequenceNumber, Map<Integer, Long> batchesEnd) {
            this.recipeId = recipeId;
            this.from = Map.copyOf(from);
            this.ledger = new BatchLedger(batchesEnd, nextSequenceNumber);
        }

        /** A batch at {@code offset} of {@code partition}; another recipe's is passed over. */
        void add(int partition, long offset, TrainBatch batch) {
            if (recipeId.equals(batch.recipeId())) {
                keys.addAll(batch.exampleKeys());
                ledger.placed(partition, offset, batch);
                read++;
            }
        }

        BatchHistory history() {
            return new BatchHistory(from, keys, ledger, read);
        }
    }

    /** Per partition of {@code batches}, its end offset now. */
    static Map<Integer, Long> batchesEnd(TopicReader reader) {
        Map<Integer, Long> end = new HashMap<>();
        reader.endOffsets(Topics.BATCHES).forEach((partition, offset) -> end.put(partition.partition(), offset));
        return end;
    }

    /** Every batch of the recipe on the topic: for a group whose commits carry no progress note. */
    static BatchHistory readAll(TopicReader reader, String recipeId) {
        return read(reader, recipeId, new BatchProgress(Map.of(), 0));
    }

    long nextSequenceNumber() {
        return ledger.nextSequenceNumber();
    }
}
