package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.LoopbackPorts;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.run.LocalServices;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.ThrowawayTls;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.junit.jupiter.api.Test;

/**
 * The data stages against a broker that takes SASL_SSL with SCRAM-SHA-512 only (certificates made by the test), set
 * up the way a deployment sets them: {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_MECHANISM},
 * {@code KAFKA_SASL_JAAS_CONFIG} and {@code KAFKA_SSL_TRUSTSTORE_*} in each service's environment. Their consumers,
 * producers, admin clients and readiness all go through it: conversations become batches and every service is ready.
 * A service given a wrong password is not ready, and its readiness says the login was refused.
 */
class SecureStreamIT {

    private static final int CONVERSATIONS = 200;

    @Test
    void theDataStagesStreamOverSaslSslAndAWrongPasswordLeavesAServiceUnready() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path work = Pipeline.ROOT.resolve("pipeline-tests/target/secure-" + run);
        String password = "pw-" + UUID.randomUUID();
        ThrowawayTls tls = ThrowawayTls.create(Files.createDirectories(work.resolve("tls")));
        try (KafkaBroker broker = KafkaBroker.start(
                work.resolve("broker"),
                new KafkaBroker.ScramOverTls(
                        tls.keyStore(), tls.trustStore(), tls.storePassword(), Map.of("streamtune", password)))) {
            Map<String, Object> client = clientSettings(broker, tls, password);
            TopicProvisioner.ensure(client, Topics.ALL);

            String dataset = "secure-" + run;
            Recipe recipe = Pipeline.recipe("secure-" + run, dataset);
            LocalServices.Stack stack = LocalServices.stack(
                            Pipeline.ROOT, broker.bootstrapServers(), Infrastructure.database())
                    .withoutTraining()
                    .logs(work.resolve("logs"))
                    .set(LocalServices.FORMAT, "FORMAT_MODEL_ROOT", Pipeline.ROOT.toString())
                    .set(LocalServices.TOKENIZE, "TOKENIZE_FLUSH_AFTER", "PT1S");
            Map<String, String> environment = environment(tls, password);
            for (String service : List.of(LocalServices.INGEST, LocalServices.FORMAT, LocalServices.TOKENIZE)) {
                environment.forEach((variable, value) -> stack.set(service, variable, value));
            }
            try (LocalServices services = stack.start()) {
                KafkaSettings kafka = new KafkaSettings(client);
                publish(kafka, recipe, run, dataset);
                await(
                        "every conversation batched or held out over SASL_SSL",
                        () -> examplesOut(kafka, recipe.id()) >= CONVERSATIONS);
                for (ServiceProcess service : List.of(services.ingest(), services.format(), services.tokenize())) {
                    assertThat(ready(service).statusCode())
                            .as(service.name() + " ready")
                            .isEqualTo(200);
                }
            }

            Map<String, String> wrong = new HashMap<>(environment(tls, "not-" + password));
            wrong.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
            wrong.put("FORMAT_MODEL_ROOT", Pipeline.ROOT.toString());
            try (ServiceProcess refused = ServiceProcess.startUnready(
                    Pipeline.ROOT, LocalServices.FORMAT, LoopbackPorts.free(), wrong, work.resolve("wrong"))) {
                await("format-service with a wrong password says why it is not ready", () -> {
                    try {
                        HttpResponse<String> ready = ready(refused);
                        return ready.statusCode() == 503
                                && ready.body().toLowerCase().contains("authentication");
                    } catch (java.io.IOException notListeningYet) {
                        return false;
                    }
                });
            }
        }
    }

    /** What a service's {@code kafka.*} settings hold for this broker, as a client here gives them. */
    private static Map<String, Object> clientSettings(KafkaBroker broker, ThrowawayTls tls, String password) {
        return Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL",
                SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512",
                SaslConfigs.SASL_JAAS_CONFIG, KafkaBroker.ScramOverTls.jaasConfig("streamtune", password),
                SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, tls.trustStore().toString(),
                SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, tls.storePassword(),
                SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    }

    /** The same, as the environment variables README tells a deployment to set. */
    private static Map<String, String> environment(ThrowawayTls tls, String password) {
        return Map.of(
                "KAFKA_SECURITY_PROTOCOL",
                "SASL_SSL",
                "KAFKA_SASL_MECHANISM",
                "SCRAM-SHA-512",
                "KAFKA_SASL_JAAS_CONFIG",
                KafkaBroker.ScramOverTls.jaasConfig("streamtune", password),
                "KAFKA_SSL_TRUSTSTORE_LOCATION",
                tls.trustStore().toString(),
                "KAFKA_SSL_TRUSTSTORE_PASSWORD",
                tls.storePassword(),
                "KAFKA_SSL_TRUSTSTORE_TYPE",
                "PKCS12");
    }

    /** The recipe on {@code recipes}, then the conversations on {@code conversations-raw}, over SASL_SSL. */
    private static void publish(KafkaSettings kafka, Recipe recipe, String run, String dataset) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producer("secure-stream-it"))) {
            producer.send(new ProducerRecord<>(
                            Topics.RECIPES,
                            recipe.id(),
                            new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe)))
                    .get();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int n = 0; n < CONVERSATIONS; n++) {
                ProducerRecord<String, byte[]> record =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, run + "-" + n, Pipeline.conversation(run, n));
                record.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                acks.add(producer.send(record));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
    }

    /** How many of the recipe's examples came out of tokenize: in a batch (any window), or for evaluation. */
    private static long examplesOut(KafkaSettings kafka, String recipeId) {
        TopicReader topics = new TopicReader(kafka);
        Set<String> examples = new HashSet<>();
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        topics.readAll(Topics.BATCHES).stream()
                .filter(record -> recipeId.equals(record.key()))
                .map(record -> batches.deserialize(record.topic(), record.value()))
                .map(TrainBatch::exampleKeys)
                .forEach(keys -> keys.forEach(key -> examples.add(key.replaceAll("#\\d+$", ""))));
        topics.readAll(Topics.EVAL_EXAMPLES).stream()
                .filter(record -> record.key() != null && record.key().startsWith(recipeId + ":"))
                .forEach(record -> examples.add(record.key().replaceAll("#\\d+$", "")));
        return examples.size();
    }

    private static HttpResponse<String> ready(ServiceProcess service) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(service.uri("/q/health/ready"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }
}
