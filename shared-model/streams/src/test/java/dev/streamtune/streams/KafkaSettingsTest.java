package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

    private final KafkaSettings kafka = new KafkaSettings(Map.of(
            "bootstrap.servers", "broker:9093",
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "SCRAM-SHA-512",
            "ssl.truststore.location", "/etc/kafka/truststore.p12",
            "max.poll.records", "50",
            "linger.ms", "20",
            "group.id", "format-service",
            "enable.auto.commit", "true",
            "acks", "1"));

    @Test
    void everyClientSettingOfTheServiceReachesConsumersAndProducers() {
        Map<String, Object> consumer = kafka.consumer("format-service.r1", "format-service-r1");
        Map<String, Object> producer = kafka.producer("format-service");

        for (Map<String, Object> client : new Map[] {consumer, producer}) {
            assertThat(client)
                    .containsEntry("bootstrap.servers", "broker:9093")
                    .containsEntry("security.protocol", "SASL_SSL")
                    .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                    .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12");
        }
        assertThat(consumer).containsEntry("max.poll.records", "50"); // the service's tuning beats the defaults
        assertThat(producer).containsEntry("linger.ms", "20");
    }

    @Test
    void theFrameworksGuaranteesCannotBeConfiguredAway() {
        Map<String, Object> consumer = kafka.consumer("format-service.r1", "c");
        Map<String, Object> producer = kafka.producer("p");

        assertThat(consumer).containsEntry("group.id", "format-service.r1").containsEntry("enable.auto.commit", false);
        assertThat(producer).containsEntry("acks", "all").containsEntry("enable.idempotence", true);
        assertThat(kafka.consumer(null, "reader")).doesNotContainKey("group.id");
    }

    @Test
    void settingsWithoutBootstrapServersAreRefused() {
        assertThatNullPointerException()
                .isThrownBy(() -> new KafkaSettings(Map.of("security.protocol", "SSL")))
                .withMessageContaining("bootstrap.servers");
    }

    @Test
    void staticMembershipAppliesToGroupConsumersOnly() {
        KafkaSettings settings =
                new KafkaSettings(Map.of("bootstrap.servers", "b:9092", "group.instance.id", "trainer-0"));
        assertThat(settings.consumer("trainer-service.r1", "c")).containsEntry("group.instance.id", "trainer-0");
        assertThat(settings.consumer(null, "c")).doesNotContainKey("group.instance.id");
    }

    @Test
    void oneMaximumRecordSizeBoundsWhatProducersSendAndLetsConsumersFetchIt() {
        KafkaSettings defaults = KafkaSettings.bootstrap("b:9092");
        assertThat(defaults.maxRecordSize()).isEqualTo(KafkaSettings.MAX_RECORD_BYTES);
        assertThat(defaults.producer("p")).containsEntry("max.request.size", KafkaSettings.MAX_RECORD_BYTES);
        assertThat((int) defaults.consumer("g", "c").get("max.partition.fetch.bytes"))
                .isGreaterThanOrEqualTo(KafkaSettings.MAX_RECORD_BYTES);

        KafkaSettings larger = defaults.with("max.request.size", "20971520");
        assertThat(larger.maxRecordSize()).isEqualTo(20_971_520);
        assertThat(larger.producer("p")).containsEntry("max.request.size", "20971520");
        assertThat(larger.consumer("g", "c")).containsEntry("max.partition.fetch.bytes", 20_971_520);
        assertThat(defaults.with("max.request.size", 65536).maxRecordSize()).isEqualTo(65536);
    }
}
