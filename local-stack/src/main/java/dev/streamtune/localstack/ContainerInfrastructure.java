package dev.streamtune.localstack;

import dev.streamtune.streams.KafkaSettings;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The optional Docker path: the same Kafka and PostgreSQL, as Testcontainers. Only loaded when
 * {@code streamtune.infrastructure=testcontainers}, so the Testcontainers jars are needed only then.
 */
final class ContainerInfrastructure {

    static final String KAFKA_IMAGE = "apache/kafka:4.1.1";
    static final String POSTGRES_IMAGE = "postgres:17-alpine";

    private static KafkaContainer kafka;
    private static PostgreSQLContainer postgres;

    private ContainerInfrastructure() {}

    static synchronized String kafkaBootstrapServers() {
        if (kafka == null) {
            kafka = new KafkaContainer(KAFKA_IMAGE)
                    .withEnv("KAFKA_MESSAGE_MAX_BYTES", String.valueOf(KafkaSettings.MAX_RECORD_BYTES));
            kafka.start();
        }
        return kafka.getBootstrapServers();
    }

    static synchronized DatabaseEndpoint database() {
        if (postgres == null) {
            postgres = new PostgreSQLContainer(POSTGRES_IMAGE);
            postgres.start();
        }
        return new DatabaseEndpoint(postgres.getJdbcUrl(), postgres.getUsername(), postgres.getPassword());
    }
}
