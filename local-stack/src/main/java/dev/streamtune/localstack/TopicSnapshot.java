package dev.streamtune.localstack;

import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicReader;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Everything on a topic from the beginning up to its end offsets at the time of the call (the framework's
 * {@link TopicReader}), for tests and the local run: a producer that waited for its acknowledgements is sure to
 * find its records here, with no waiting on time.
 */
public final class TopicSnapshot {

    private TopicSnapshot() {}

    public static List<ConsumerRecord<String, byte[]>> read(String bootstrapServers, String topic) {
        return read(KafkaSettings.bootstrap(bootstrapServers), topic);
    }

    /** As {@link #read(String, String)}, on a cluster reached with these settings (TLS, SASL). */
    public static List<ConsumerRecord<String, byte[]>> read(KafkaSettings kafka, String topic) {
        return new TopicReader(kafka).readAll(topic);
    }
}
