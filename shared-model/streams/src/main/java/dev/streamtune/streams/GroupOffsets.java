package dev.streamtune.streams;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group's committed positions on one topic, read (and, for a group nobody consumes in yet, set) from
 * outside the group: a worker learns before it joins where its group stands and what its last commits noted
 * ({@link StreamWorker#commitNote}).
 */
public final class GroupOffsets {

    private final KafkaSettings kafka;
    private final Duration deadline;

    public GroupOffsets(KafkaSettings kafka, Duration deadline) {
        this.kafka = kafka;
        this.deadline = deadline;
    }

    public GroupOffsets(KafkaSettings kafka) {
        this(kafka, TopicReader.DEFAULT_DEADLINE);
    }

    /** The group's committed position and note of each partition of {@code topic} it has committed on. */
    public Map<TopicPartition, OffsetAndMetadata> committed(String groupId, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = outsider(groupId)) {
            Set<TopicPartition> partitions = new HashSet<>(partitions(consumer, topic));
            Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
            consumer.committed(partitions, deadline).forEach((partition, offset) -> {
                if (offset != null) {
                    committed.put(partition, offset);
                }
            });
            return committed;
        }
    }

    /**
     * Commits the beginning of every partition of {@code topic} for the group, with {@code note}: where a group that
     * has committed nothing reads from anyway, now written down with the note, before anything is read. Only a group
     * with no live member accepts it; false when the broker refused (a member of an earlier consumer still in its
     * session), so that the caller can do without.
     */
    public boolean commitBeginnings(String groupId, String topic, String note) {
        try (KafkaConsumer<String, byte[]> consumer = outsider(groupId)) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            consumer.beginningOffsets(partitions, deadline)
                    .forEach((partition, offset) -> offsets.put(partition, new OffsetAndMetadata(offset, note)));
            consumer.commitSync(offsets, deadline);
            return true;
        } catch (KafkaException e) {
            return false;
        }
    }

    private KafkaConsumer<String, byte[]> outsider(String groupId) {
        Map<String, Object> config = kafka.consumer(groupId, "group-offsets-" + UUID.randomUUID());
        // Not a member of the group: a static member id would stand for the worker itself.
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        return new KafkaConsumer<>(config);
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer, String topic) {
        return consumer.partitionsFor(topic, deadline).stream()
                .map(info -> new TopicPartition(info.topic(), info.partition()))
                .toList();
    }
}
