package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.LoopbackPorts;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.run.LocalServices;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.ThrowawayTls;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The five services against a broker that takes SASL_SSL with SCRAM-SHA-512 only (certificates made by the test), set
 * up the way a deployment sets them: {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_MECHANISM},
 * {@code KAFKA_SASL_JAAS_CONFIG} and {@code KAFKA_SSL_TRUSTSTORE_*} in each service's environment, given by the stack
 * of {@code ./run-local} from the same client settings this JVM's own clients (topic creation, producer, readers)
 * use. Their consumers, producers, admin clients and readiness all go through it: conversations become batches; a
 * LoRA run on stories260K trains, checkpoints, eval-service scores the base and every checkpoint, and the trainer
 * hears of it; every service is ready. A service given a wrong password is not ready, and its readiness says the
 * login was refused. Without the shared models, the trainer's and the evaluator's part is skipped, saying so.
 */
class SecureStreamIT {

    private static final int CONVERSATIONS = 200;
    /** The trained run's optimiser steps: a checkpoint every 3, so two to score. */
    private static final int STEPS = 6;

    @Test
    void everyServiceStreamsOverSaslSslAndAWrongPasswordLeavesAServiceUnready() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path work = Pipeline.ROOT.resolve("pipeline-tests/target/secure-" + run);
        String password = "pw-" + UUID.randomUUID();
        ThrowawayTls tls = ThrowawayTls.create(Files.createDirectories(work.resolve("tls")));
        Optional<Path> models = SharedData.modelsIfPresent();
        try (KafkaBroker broker = KafkaBroker.start(
                work.resolve("broker"),
                new KafkaBroker.ScramOverTls(
                        tls.keyStore(), tls.trustStore(), tls.storePassword(), Map.of("streamtune", password)))) {
            KafkaSettings kafka = settings(broker, tls, password);
            TopicProvisioner.ensure(kafka, Topics.ALL);

            String dataset = "secure-" + run;
            Recipe recipe = Pipeline.recipe("secure-" + run, dataset);
            try (Pipeline pipeline = Pipeline.start(
                    kafka,
                    Infrastructure.database(),
                    "secure-" + run + "/logs",
                    models.orElse(Pipeline.ROOT),
                    models.map(folder -> Map.of(
                                    "TRAINER_CHECKPOINT_ROOT",
                                    work.resolve("checkpoints").toString()))
                            .orElse(null))) {
                try (KafkaProducer<String, byte[]> producer = pipeline.producer()) {
                    producer.send(new ProducerRecord<>(
                                    Topics.RECIPES,
                                    recipe.id(),
                                    new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe)))
                            .get();
                }
                String trained = "lora-" + run;
                String runId = models.isPresent() ? TrainingPipelineIT.post(pipeline, lora(trained, dataset)) : null;
                pipeline.produce(run, dataset, 0, CONVERSATIONS);

                await(
                        "every conversation batched or held out over SASL_SSL",
                        () -> examplesOut(pipeline, recipe.id()) >= CONVERSATIONS);
                if (runId != null) {
                    assertTrainedAndScored(pipeline, trained, runId);
                }
                for (ServiceProcess service : Stream.of(
                                pipeline.ingest, pipeline.format, pipeline.tokenize, pipeline.trainer, pipeline.eval)
                        .filter(service -> service != null)
                        .toList()) {
                    assertThat(ready(service).statusCode())
                            .as(service.name() + " ready")
                            .isEqualTo(200);
                }
            }

            Map<String, String> wrong =
                    new HashMap<>(settings(broker, tls, "not-" + password).environment());
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
        Assumptions.assumeTrue(
                models.isPresent(),
                "trainer-service and eval-service over SASL_SSL skipped (the data stages passed): "
                        + SharedData.dir().resolve("models/stories260K") + " is absent");
    }

    /**
     * The run trained its steps and announced its checkpoints (read here over SASL_SSL); eval-service scored the base
     * and every one of them; the trainer heard of each checkpoint's validation score.
     */
    private static void assertTrainedAndScored(Pipeline pipeline, String recipeId, String runId) throws Exception {
        await("run " + runId + " trains " + STEPS + " steps and checkpoints the last", () -> {
            JsonNode checkpoints = TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/checkpoints");
            return checkpoints.isArray()
                    && checkpoints.size() > 0
                    && checkpoints.get(checkpoints.size() - 1).path("step").asLong() >= STEPS;
        });
        Set<String> announced = TopicSnapshot.read(pipeline.kafkaSettings, Topics.CHECKPOINTS).stream()
                .map(record -> new CheckpointEventDeserializer().deserialize(record.topic(), record.value()))
                .filter(event -> event.runId().equals(runId))
                .map(CheckpointEvent::checksum)
                .collect(Collectors.toSet());
        assertThat(announced)
                .as("checkpoints of " + runId + " on " + Topics.CHECKPOINTS)
                .isNotEmpty();

        await("eval-service scores the base and every checkpoint of " + runId, () -> {
            JsonNode rows = TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/checkpoints");
            if (rows.size() != announced.size() + 1) {
                return false;
            }
            for (JsonNode row : rows) {
                if (!row.path("status").asText().equals("SCORED")) {
                    assertThat(row.path("status").asText())
                            .as("checkpoint %s: %s", row.path("step"), row.path("detail"))
                            .isNotEqualTo("FAILED");
                    return false;
                }
            }
            return true;
        });
        Set<Long> scored = new TreeSet<>();
        for (JsonNode evaluation : TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/evaluations")) {
            if (!evaluation.path("base").asBoolean()
                    && evaluation.path("split").asText().equals("valid")) {
                scored.add(evaluation.path("step").asLong());
            }
        }
        assertThat(scored)
                .as("checkpoints of " + runId + " scored on the validation split")
                .isNotEmpty();
        await("the trainer hears of run " + runId + "'s evaluations", () -> {
            Set<Long> heard = new TreeSet<>();
            for (JsonNode evaluation : TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/evaluations")) {
                if (evaluation.path("split").asText().equals("valid")
                        && evaluation.path("step").asLong() > 0) {
                    heard.add(evaluation.path("step").asLong());
                }
            }
            return heard.equals(scored);
        });
    }

    /** What a service's {@code kafka.*} settings hold for this broker, as a client here gives them. */
    private static KafkaSettings settings(KafkaBroker broker, ThrowawayTls tls, String password) {
        return new KafkaSettings(Map.of(
                "bootstrap.servers", broker.bootstrapServers(),
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", KafkaBroker.ScramOverTls.jaasConfig("streamtune", password),
                "ssl.truststore.location", tls.trustStore().toString(),
                "ssl.truststore.password", tls.storePassword(),
                "ssl.truststore.type", "PKCS12"));
    }

    /**
     * LoRA on stories260K over the dataset: ChatML rows of 64 tokens, 2 to a batch, 2 micro-batches a step, a
     * checkpoint every 3 steps, {@link #STEPS} steps; eval-service generates 8 tokens for 2 examples a split.
     */
    private static String lora(String id, String dataset) {
        return RecipeYaml.withId(id)
                .stories260K()
                .data("datasets", List.of(dataset))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", 64)
                .data("truncation", "split")
                .data("packing", true)
                .training("learning_rate", "5e-3")
                .training("per_device_train_batch_size", 2)
                .training("gradient_accumulation_steps", 2)
                .training("max_steps", STEPS)
                .training("save_steps", 3)
                .training("seed", 11)
                .lora("r", 4)
                .lora("lora_alpha", 8)
                .lora("target_modules", List.of("q_proj", "k_proj", "v_proj", "o_proj"))
                .generation("num_samples", 2)
                .generation("max_new_tokens", 8)
                .yaml();
    }

    /** How many of the recipe's examples came out of tokenize: in a batch (any window), or for evaluation. */
    private static long examplesOut(Pipeline pipeline, String recipeId) {
        Set<String> examples = new HashSet<>();
        pipeline.batches(recipeId).stream()
                .map(TrainBatch::exampleKeys)
                .forEach(keys -> keys.forEach(key -> examples.add(key.replaceAll("#\\d+$", ""))));
        pipeline.evalExamples(recipeId).stream()
                .map(EvalExample::key)
                .forEach(key -> examples.add(key.replaceAll("#\\d+$", "")));
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
