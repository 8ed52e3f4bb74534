package dev.streamtune.tokenize.worker;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.streams.TopicReader;
import java.util.HashSet;
import java.util.Set;

/**
 * What a recipe's batches on the {@code batches} topic already hold: the exact keys of the examples in them
 * (windows {@code #n} and mixing copies {@code ~n} as they are, so that a window or a copy that was still buffered
 * when a worker died is told apart from one that was published) and the next sequence number. Read from the topic
 * itself, to its end offsets at the time of reading, without a consumer group.
 */
record BatchHistory(Set<String> exampleKeys, long nextSequenceNumber) {

    static BatchHistory read(TopicReader reader, String recipeId) {
        Set<String> keys = new HashSet<>();
        long[] next = {0};
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        reader.forEach(Topics.BATCHES, record -> {
            if (recipeId.equals(record.key()) && record.value() != null) {
                TrainBatch batch = batches.deserialize(record.topic(), record.value());
                keys.addAll(batch.exampleKeys());
                next[0] = Math.max(next[0], batch.sequenceNumber() + 1);
            }
        });
        return new BatchHistory(keys, next[0]);
    }
}
