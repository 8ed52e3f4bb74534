package dev.streamtune.tokenize.processor;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a recipe's batches on the {@code batches} topic already hold: the examples in them and the next sequence
 * number. Read from the topic itself, to its end offsets at the time of reading, without a consumer group.
 */
record BatchHistory(Set<String> exampleKeys, long nextSequenceNumber) {

    private static final Pattern DERIVED = Pattern.compile("(#\\d+)?(~\\d+)?$");

    /** An example key without the window (#n) or mixing copy (~n) suffix it may carry in a batch. */
    static String baseKey(String key) {
        return DERIVED.matcher(key).replaceFirst("");
    }

    static BatchHistory read(String bootstrapServers, String recipeId) {
        Set<String> keys = new HashSet<>();
        long[] next = {0};
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        TopicScan.forEach(bootstrapServers, Topics.BATCHES, record -> {
            if (recipeId.equals(record.key()) && record.value() != null) {
                TrainBatch batch = batches.deserialize(record.topic(), record.value());
                batch.exampleKeys().forEach(key -> keys.add(baseKey(key)));
                next[0] = Math.max(next[0], batch.sequenceNumber() + 1);
            }
        });
        return new BatchHistory(keys, next[0]);
    }
}
