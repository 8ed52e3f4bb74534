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
    void anAdminClientGetsTheSettingsAdminClientsKnow() {
        assertThat(kafka.admin("provisioner"))
                .containsEntry("bootstrap.servers", "broker:9093")
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12")
                .containsEntry("client.id", "provisioner")
                .doesNotContainKeys("max.poll.records", "linger.ms", "acks", "group.id");
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

    @Test
    void aServicesEnvironmentGivesTheClientSettingsQuarkusMakesOfIt() {
        KafkaSettings settings = KafkaSettings.fromEnvironment(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "broker:9093",
                "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "KAFKA_SASL_JAAS_CONFIG", "ScramLoginModule required username=\"u\" password=\"p_w\";",
                "KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.p12",
                "QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db/streamtune",
                "PATH", "/usr/bin"));

        assertThat(settings.bootstrapServers()).isEqualTo("broker:9093");
        assertThat(settings.producer("p"))
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("sasl.jaas.config", "ScramLoginModule required username=\"u\" password=\"p_w\";")
                .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12")
                .doesNotContainKeys("datasource.jdbc.url", "quarkus.datasource.jdbc.url", "path");
    }

    @Test
    void theEnvironmentOfASettingsGivesAServiceTheSameSettings() {
        KafkaSettings settings = KafkaSettings.bootstrap("broker:9093")
                .with("security.protocol", "SASL_SSL")
                .with("ssl.truststore.location", "/etc/kafka/truststore.p12")
                .with("max.request.size", 65536);

        assertThat(settings.environment())
                .containsOnly(
                        Map.entry("KAFKA_BOOTSTRAP_SERVERS", "broker:9093"),
                        Map.entry("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
                        Map.entry("KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.p12"),
                        Map.entry("KAFKA_MAX_REQUEST_SIZE", "65536"));
        assertThat(KafkaSettings.fromEnvironment(settings.environment()).producer("p"))
                .isEqualTo(settings.with("max.request.size", "65536").producer("p"));
    }

    @Test
    void anEnvironmentWithoutBootstrapServersIsRefused() {
        assertThatNullPointerException()
                .isThrownBy(() -> KafkaSettings.fromEnvironment(Map.of("KAFKA_SECURITY_PROTOCOL", "SSL")))
                .withMessageContaining("bootstrap.servers");
    }
}
