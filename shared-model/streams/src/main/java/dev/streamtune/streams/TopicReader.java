package dev.streamtune.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic from its beginning up to its end offsets at the time of the call, without a consumer group,
 * within a deadline: a producer that waited for its acknowledgements is sure to find its records, and a broker that
 * stops answering is an error rather than a reader spinning forever.
 */
public final class TopicReader {

    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(120);

    private final KafkaSettings kafka;
    private final Duration deadline;

    public TopicReader(KafkaSettings kafka, Duration deadline) {
        this.kafka = kafka;
        this.deadline = deadline;
    }

    public TopicReader(KafkaSettings kafka) {
        this(kafka, DEFAULT_DEADLINE);
    }

    /** Hands every record up to the end offsets of the time of the call to {@code action}, in partition order. */
    public void forEach(String topic, Consumer<ConsumerRecord<String, byte[]>> action) {
        long until = System.nanoTime() + deadline.toNanos();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(kafka.consumer(null, "topic-reader-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, deadline).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, deadline);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException(
                            "could not read " + topic + " up to its end offsets " + end + " within " + deadline);
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        action.accept(record);
                    }
                }
            }
        }
    }

    /**
     * Hands every record of {@code topic} with {@code from <= offset < until} on its partition to {@code action}
     * (a partition missing from {@code from} is read from its beginning; one missing from {@code until} is not
     * read): a slice of a log, such as the batches between two checkpoints.
     */
    public void forEachBetween(
            String topic,
            Map<Integer, Long> from,
            Map<Integer, Long> until,
            Consumer<ConsumerRecord<String, byte[]>> action) {
        long deadlineAt = System.nanoTime() + deadline.toNanos();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(kafka.consumer(null, "topic-reader-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, deadline).stream()
                    .filter(info -> until.getOrDefault(info.partition(), 0L) > from.getOrDefault(info.partition(), 0L))
                    .map(info -> new TopicPartition(info.topic(), info.partition()))
                    .toList();
            consumer.assign(partitions);
            for (TopicPartition partition : partitions) {
                consumer.seek(partition, from.getOrDefault(partition.partition(), 0L));
            }
            while (partitions.stream().anyMatch(p -> consumer.position(p) < until.get(p.partition()))) {
                if (System.nanoTime() > deadlineAt) {
                    throw new IllegalStateException(
                            "could not read " + topic + " from " + from + " to " + until + " within " + deadline);
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < until.get(record.partition())) {
                        action.accept(record);
                    }
                }
            }
        }
    }

    /** The end offset of each partition of {@code topic} now. */
    public Map<TopicPartition, Long> endOffsets(String topic) {
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(kafka.consumer(null, "topic-reader-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, deadline).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition()))
                    .toList();
            return consumer.endOffsets(partitions, deadline);
        }
    }

    /** Every record up to the end offsets of the time of the call. */
    public List<ConsumerRecord<String, byte[]>> readAll(String topic) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        forEach(topic, records::add);
        return records;
    }
}
