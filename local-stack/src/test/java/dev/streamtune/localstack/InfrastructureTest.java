package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.streams.KafkaSettings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InfrastructureTest {

    private static final String JAAS =
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";";

    private static final Map<String, String> SECURED = Map.of(
            "KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9093",
            "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
            "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
            "KAFKA_SASL_JAAS_CONFIG", JAAS,
            "KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.p12",
            "KAFKA_SSL_TRUSTSTORE_PASSWORD", "changeit",
            "KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12",
            "QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db.example/streamtune",
            "HOME", "/home/someone");

    @Test
    void anExternalClusterIsReachedWithEveryKafkaVariableOfTheEnvironment() {
        KafkaSettings kafka = Infrastructure.externalKafka(SECURED, null);

        assertThat(kafka.bootstrapServers()).isEqualTo("kafka.example:9093");
        // the local run's topic creation, its readers, and what the services it starts are given
        for (Map<String, Object> client :
                List.of(kafka.admin("provisioner"), kafka.consumer(null, "reader"), kafka.producer("writer"))) {
            assertThat(client)
                    .containsEntry("bootstrap.servers", "kafka.example:9093")
                    .containsEntry("security.protocol", "SASL_SSL")
                    .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                    .containsEntry("sasl.jaas.config", JAAS)
                    .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.p12")
                    .containsEntry("ssl.truststore.password", "changeit")
                    .containsEntry("ssl.truststore.type", "PKCS12");
        }
        assertThat(kafka.environment())
                .containsAllEntriesOf(Map.of(
                        "KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9093",
                        "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                        "KAFKA_SASL_JAAS_CONFIG", JAAS,
                        "KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12"))
                .doesNotContainKeys("QUARKUS_DATASOURCE_JDBC_URL", "HOME");
    }

    @Test
    void theBootstrapPropertyNamesTheClusterTheEnvironmentSecures() {
        KafkaSettings kafka = Infrastructure.externalKafka(SECURED, "other.example:9093");

        assertThat(kafka.bootstrapServers()).isEqualTo("other.example:9093");
        assertThat(kafka.admin("provisioner")).containsEntry("security.protocol", "SASL_SSL");
    }

    @Test
    void withoutBootstrapServersThereIsNoExternalClusterWhateverElseIsSet() {
        Map<String, String> stray = Map.of("KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "HOME", "/home/someone");

        assertThat(Infrastructure.externalKafka(stray, null)).isNull();
        assertThat(Infrastructure.externalKafka(stray, " ")).isNull();
        assertThat(Infrastructure.externalKafka(Map.of("KAFKA_BOOTSTRAP_SERVERS", ""), null))
                .isNull();
    }
}
