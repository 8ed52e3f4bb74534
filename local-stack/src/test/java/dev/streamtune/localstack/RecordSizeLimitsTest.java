package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Topics;
import dev.streamtune.streams.KafkaSettings;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/** The local broker and the topics it is given accept the largest record the services' producers send. */
class RecordSizeLimitsTest {

    @Test
    void theLocalBrokerAcceptsTheLargestRecordTheServicesSend() {
        assertThat(KafkaBroker.settings(Path.of("data"), 9092, 9093, Map.of()).getProperty("message.max.bytes"))
                .isEqualTo(String.valueOf(KafkaSettings.MAX_RECORD_BYTES));
    }

    @Test
    void everyTopicAcceptsTheLargestRecordTheServicesSendAndKeepsItsCleanupPolicy() {
        for (Topics.TopicSpec spec : Topics.ALL) {
            NewTopic topic = TopicProvisioner.newTopic(spec);
            assertThat(topic.configs())
                    .as(spec.name())
                    .containsEntry("max.message.bytes", String.valueOf(KafkaSettings.MAX_RECORD_BYTES))
                    .containsEntry("cleanup.policy", spec.compacted() ? "compact" : "delete");
            assertThat(topic.numPartitions()).isEqualTo(spec.partitions());
        }
    }
}
