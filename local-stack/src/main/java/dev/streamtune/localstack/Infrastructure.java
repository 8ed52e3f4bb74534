package dev.streamtune.localstack;

import dev.streamtune.events.Topics;
import dev.streamtune.streams.KafkaSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The Kafka cluster and PostgreSQL database this JVM talks to, started at most once per JVM and shared by every
 * test and service in it.
 *
 * <p>Where they come from, in order of precedence:
 * <ol>
 *   <li>External: {@code KAFKA_BOOTSTRAP_SERVERS} and {@code QUARKUS_DATASOURCE_JDBC_URL} (with
 *       {@code QUARKUS_DATASOURCE_USERNAME} / {@code QUARKUS_DATASOURCE_PASSWORD}) in the environment, or the same
 *       names as system properties in lower-case dotted form ({@code kafka.bootstrap.servers},
 *       {@code quarkus.datasource.jdbc.url}...). Every other {@code KAFKA_*} variable is a client setting for that
 *       cluster, as it is for the services ({@link KafkaSettings#fromEnvironment}): {@code KAFKA_SECURITY_PROTOCOL},
 *       {@code KAFKA_SASL_JAAS_CONFIG}, {@code KAFKA_SSL_TRUSTSTORE_LOCATION}... reach a secured one.</li>
 *   <li>Containers: system property {@code streamtune.infrastructure=testcontainers} (Maven profile
 *       {@code testcontainers}) on machines with Docker.</li>
 *   <li>Otherwise, real local processes: a Kafka broker in a child JVM and an embedded PostgreSQL.</li>
 * </ol>
 * Whatever the source, the platform's topics are created if missing.
 *
 * <p>What was started is also recorded in JVM-wide system properties: Quarkus loads a fresh copy of this class for
 * every application restart (a test profile), and the copies must find the broker and database already running.
 */
public final class Infrastructure {

    private static final Logger LOG = Logger.getLogger(Infrastructure.class);

    private static final String STARTED_KAFKA = "streamtune.local-stack.kafka";
    private static final String STARTED_DATABASE = "streamtune.local-stack.jdbc-url";

    private static KafkaSettings kafka;
    private static DatabaseEndpoint database;

    private Infrastructure() {}

    /** Bootstrap servers of the Kafka cluster, starting a broker if none is configured. */
    public static String kafkaBootstrapServers() {
        return kafkaSettings().bootstrapServers();
    }

    /**
     * How clients reach the Kafka cluster (an external one's TLS and SASL settings included), starting a broker if
     * none is configured.
     */
    public static synchronized KafkaSettings kafkaSettings() {
        if (kafka == null) {
            KafkaSettings external = externalKafka(System.getenv(), System.getProperty("kafka.bootstrap.servers"));
            if (external != null) {
                LOG.infof("Using the external Kafka cluster at %s", external.bootstrapServers());
                kafka = external;
            } else if (System.getProperty(STARTED_KAFKA) != null) {
                kafka = KafkaSettings.bootstrap(System.getProperty(STARTED_KAFKA));
            } else if (useContainers()) {
                kafka = KafkaSettings.bootstrap(ContainerInfrastructure.kafkaBootstrapServers());
                System.setProperty(STARTED_KAFKA, kafka.bootstrapServers());
            } else {
                kafka = KafkaSettings.bootstrap(startBroker().bootstrapServers());
                System.setProperty(STARTED_KAFKA, kafka.bootstrapServers());
            }
            TopicProvisioner.ensure(kafka, Topics.ALL);
        }
        return kafka;
    }

    /**
     * The external cluster {@code environment} names, reached with every {@code KAFKA_*} variable in it as the
     * services read them ({@link KafkaSettings#fromEnvironment}), its bootstrap servers those of
     * {@code bootstrapProperty} when given; null when neither names one. Without an external cluster the other
     * {@code KAFKA_*} variables are ignored, and said to be: the broker started here takes plaintext only.
     */
    static KafkaSettings externalKafka(Map<String, String> environment, String bootstrapProperty) {
        String bootstrap = bootstrapProperty == null || bootstrapProperty.isBlank()
                ? environment.get("KAFKA_BOOTSTRAP_SERVERS")
                : bootstrapProperty;
        if (bootstrap == null || bootstrap.isBlank()) {
            List<String> ignored = environment.keySet().stream()
                    .filter(variable -> variable.startsWith("KAFKA_") && !variable.equals("KAFKA_BOOTSTRAP_SERVERS"))
                    .sorted()
                    .toList();
            if (!ignored.isEmpty()) {
                LOG.warnf(
                        "%s ignored: no KAFKA_BOOTSTRAP_SERVERS names an external cluster, and the broker started"
                                + " here takes plaintext only",
                        String.join(", ", ignored));
            }
            return null;
        }
        Map<String, String> settings = new HashMap<>(environment);
        settings.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        return KafkaSettings.fromEnvironment(settings);
    }

    /** The PostgreSQL database, starting one if none is configured. */
    public static synchronized DatabaseEndpoint database() {
        if (database == null) {
            String external = setting("QUARKUS_DATASOURCE_JDBC_URL", "quarkus.datasource.jdbc.url");
            if (external != null) {
                LOG.infof("Using the external PostgreSQL at %s", external);
                database = new DatabaseEndpoint(
                        external,
                        setting("QUARKUS_DATASOURCE_USERNAME", "quarkus.datasource.username"),
                        setting("QUARKUS_DATASOURCE_PASSWORD", "quarkus.datasource.password"));
            } else if (System.getProperty(STARTED_DATABASE) != null) {
                database = new DatabaseEndpoint(
                        System.getProperty(STARTED_DATABASE),
                        System.getProperty(STARTED_DATABASE + ".username"),
                        System.getProperty(STARTED_DATABASE + ".password"));
            } else {
                database = useContainers()
                        ? ContainerInfrastructure.database()
                        : startPostgres().endpoint();
                System.setProperty(STARTED_DATABASE, database.jdbcUrl());
                System.setProperty(STARTED_DATABASE + ".username", database.username());
                System.setProperty(STARTED_DATABASE + ".password", database.password());
            }
        }
        return database;
    }

    /** The Quarkus configuration that points a service at {@link #kafkaBootstrapServers()}. */
    public static Map<String, String> kafkaConfig() {
        return Map.of("kafka.bootstrap.servers", kafkaBootstrapServers());
    }

    /** The Quarkus configuration that points a service at {@link #database()}. */
    public static Map<String, String> databaseConfig() {
        DatabaseEndpoint db = database();
        return Map.of(
                "quarkus.datasource.jdbc.url", db.jdbcUrl(),
                "quarkus.datasource.username", db.username() == null ? "" : db.username(),
                "quarkus.datasource.password", db.password() == null ? "" : db.password());
    }

    private static KafkaBroker startBroker() {
        try {
            return KafkaBroker.startTemporary();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Kafka broker", e);
        }
    }

    private static PostgresServer startPostgres() {
        try {
            return PostgresServer.startTemporary();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL", e);
        }
    }

    private static boolean useContainers() {
        return "testcontainers".equals(System.getProperty("streamtune.infrastructure"));
    }

    static String setting(String environmentName, String propertyName) {
        String value = System.getProperty(propertyName);
        if (value == null || value.isBlank()) {
            value = System.getenv(environmentName);
        }
        return value == null || value.isBlank() ? null : value;
    }
}
