package dev.streamtune.tokenize.processor;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

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
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "tokenize-history-" + UUID.randomUUID());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Set<String> keys = new HashSet<>();
        long next = 0;
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.BATCHES, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            Function<TopicPartition, Boolean> done = partition -> consumer.position(partition) >= end.get(partition);
            while (!partitions.stream().allMatch(done::apply)) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (recipeId.equals(record.key()) && record.value() != null) {
                        TrainBatch batch = batches.deserialize(record.topic(), record.value());
                        batch.exampleKeys().forEach(key -> keys.add(baseKey(key)));
                        next = Math.max(next, batch.sequenceNumber() + 1);
                    }
                }
            }
        }
        return new BatchHistory(keys, next);
    }
}
