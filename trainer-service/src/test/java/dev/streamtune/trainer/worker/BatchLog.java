package dev.streamtune.trainer.worker;

import dev.streamtune.events.Topics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The {@code batches} topic kept in memory as Kafka keeps it: one partition, an append-only log with offsets from 0,
 * read from any offset any number of times, and the offsets each consumer group committed. It outlives the trainer
 * processes a test starts and kills, as the broker outlives them.
 */
final class BatchLog {

    static final TopicPartition PARTITION = new TopicPartition(Topics.BATCHES, 0);

    private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    private final Map<String, Long> committed = new HashMap<>();

    /** Appends a record under {@code key}; returns its offset. */
    synchronized long append(String key, byte[] value) {
        long offset = records.size();
        records.add(new ConsumerRecord<>(Topics.BATCHES, 0, offset, key, value));
        return offset;
    }

    /** Up to {@code max} records from {@code offset} on. */
    synchronized List<ConsumerRecord<String, byte[]>> read(long offset, int max) {
        int from = (int) Math.min(offset, records.size());
        return List.copyOf(records.subList(from, Math.min(records.size(), from + max)));
    }

    synchronized long end() {
        return records.size();
    }

    synchronized void commit(String group, long offset) {
        committed.put(group, offset);
    }

    synchronized Long committed(String group) {
        return committed.get(group);
    }
}
