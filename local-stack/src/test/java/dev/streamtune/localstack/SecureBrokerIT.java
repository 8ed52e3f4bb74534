package dev.streamtune.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.streamtune.localstack.testing.ThrowawayTls;
import dev.streamtune.streams.BrokerProbe;
import dev.streamtune.streams.KafkaSettings;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The platform's clients against a broker that takes SASL_SSL with SCRAM-SHA-512 only: the settings a service is
 * given ({@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_MECHANISM}, {@code KAFKA_SASL_JAAS_CONFIG},
 * {@code KAFKA_SSL_TRUSTSTORE_*}, i.e. {@code kafka.*}) reach every client {@link KafkaSettings} makes.
 */
class SecureBrokerIT {

    private static final String USER = "format-service";
    private static final String PASSWORD = "s3cret-" + UUID.randomUUID();

    @TempDir
    static Path workDir;

    private static ThrowawayTls tls;
    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        tls = ThrowawayTls.create(Files.createDirectories(workDir.resolve("tls")));
        broker = KafkaBroker.start(
                workDir.resolve("broker"),
                new KafkaBroker.ScramOverTls(
                        tls.keyStore(), tls.trustStore(), tls.storePassword(), Map.of(USER, PASSWORD)));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /** What a service's {@code kafka.*} settings hold for this broker, logging in as {@code user}. */
    private static Map<String, Object> clientSettings(String user, String password) {
        return Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL",
                SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512",
                SaslConfigs.SASL_JAAS_CONFIG, KafkaBroker.ScramOverTls.jaasConfig(user, password),
                SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, tls.trustStore().toString(),
                SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, tls.storePassword(),
                SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    }

    @Test
    void theBrokerTakesSaslSslOnlyAndKafkaSettingsClientsRoundTripARecordOverIt() throws Exception {
        Properties server = new Properties();
        try (Reader reader = Files.newBufferedReader(workDir.resolve("broker/server.properties"))) {
            server.load(reader);
        }
        assertThat(server.getProperty("listener.security.protocol.map"))
                .isEqualTo("SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT");
        assertThat(server.getProperty("advertised.listeners")).isEqualTo("SASL_SSL://" + broker.bootstrapServers());
        Map<String, Object> settings = clientSettings(USER, PASSWORD);
        String topic = "secure-conversations";
        try (Admin admin = Admin.create(settings)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        KafkaSettings kafka = new KafkaSettings(settings);

        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("secure-it"))) {
            producer.send(new ProducerRecord<>(topic, "k1", "over TLS".getBytes(StandardCharsets.UTF_8)))
                    .get(60, TimeUnit.SECONDS);
        }
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(kafka.consumer("secure-it", "secure-it-consumer"))) {
            consumer.subscribe(List.of(topic));
            while (records.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        assertThat(records).singleElement().satisfies(record -> {
            assertThat(record.key()).isEqualTo("k1");
            assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("over TLS");
        });
    }

    @Test
    void aWrongPasswordIsRefusedWithAnAuthenticationError() {
        KafkaSettings kafka = new KafkaSettings(clientSettings(USER, "not-" + PASSWORD));

        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(kafka.consumer("secure-it-wrong", "secure-it-wrong-consumer"))) {
            consumer.subscribe(List.of("secure-conversations"));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(30)))
                    .isInstanceOf(SaslAuthenticationException.class)
                    .hasMessageContaining("invalid credentials");
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("secure-it-wrong"))) {
            Throwable failure =
                    catchThrowable(() -> producer.send(new ProducerRecord<>("secure-conversations", "k", new byte[1]))
                            .get(60, TimeUnit.SECONDS));
            // The send fails either at once or through its future, depending on when the login is refused.
            assertThat(failure instanceof ExecutionException ? failure.getCause() : failure)
                    .isInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void theReadinessProbeIsUpWithTheRightCredentialsAndNamesAuthenticationWithAWrongOne() {
        // A longer bound than the services' two seconds: what is asserted is the reason, not how fast it comes.
        Duration bound = Duration.ofSeconds(30);
        try (BrokerProbe right = new BrokerProbe(new KafkaSettings(clientSettings(USER, PASSWORD)), bound);
                BrokerProbe wrong =
                        new BrokerProbe(new KafkaSettings(clientSettings(USER, "not-" + PASSWORD)), bound)) {
            assertThat(right.unreachable()).isNull();

            String reason = wrong.unreachable();
            assertThat(reason)
                    .as("the readiness reason for a wrong password")
                    .isNotNull()
                    .containsIgnoringCase("authentication")
                    .contains("SASL_SSL")
                    .doesNotContain("does not answer");
        }
    }
}
