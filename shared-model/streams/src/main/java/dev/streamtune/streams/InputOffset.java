package dev.streamtune.streams;

import dev.streamtune.events.SourceRef;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/** Where an input record sits: what a buffered output holds on the {@link CommitWatermark}. */
public record InputOffset(TopicPartition partition, long offset) {

    public static InputOffset of(ConsumerRecord<?, ?> record) {
        return new InputOffset(new TopicPartition(record.topic(), record.partition()), record.offset());
    }

    public SourceRef source() {
        return SourceRef.inTopic(partition.topic(), partition.partition(), offset);
    }
}
