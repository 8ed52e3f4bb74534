package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.PostgresServer;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.testing.SharedData;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL stops mid-stream and comes back on the same data while a LoRA run trains and eval-service scores its
 * checkpoints: ingest-service, trainer-service and eval-service report readiness DOWN naming the database while it
 * is away, conversations streamed during the outage wait rather than become dead letters, and afterwards everything
 * catches up: every batch trained, the run still running, its later checkpoints scored.
 */
class PostgresOutageIT {

    private static final int FIRST_PHASE = 10;
    private static final int CONVERSATIONS = 40;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void anOutageOfTheDatabaseMakesItsServicesUnreadyLosesNothingAndEverythingCatchesUp() throws Exception {
        Path models = SharedData.models();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "outage-" + run;
        Path checkpoints = Pipeline.ROOT.resolve("pipeline-tests/target/outage-" + run + "/checkpoints");
        List<JsonNode> conversations =
                TrainingPipelineIT.sharegptConversations().subList(0, CONVERSATIONS);

        try (KafkaBroker broker = KafkaBroker.startTemporary();
                PostgresServer database = PostgresServer.startTemporary()) {
            TopicProvisioner.ensure(broker.bootstrapServers(), Topics.ALL);
            try (Pipeline pipeline = Pipeline.start(
                    broker.bootstrapServers(),
                    database.endpoint(),
                    "outage-" + run,
                    models,
                    Map.of("TRAINER_CHECKPOINT_ROOT", checkpoints.toString()))) {
                List<ServiceProcess> withDatabase = List.of(pipeline.ingest, pipeline.trainer, pipeline.eval);
                String runId = TrainingPipelineIT.post(
                        pipeline,
                        TrainingPipelineIT.recipe("outage-" + run, dataset)
                                .lora("r", 4)
                                .lora("lora_alpha", 8)
                                .lora("target_modules", List.of("q_proj", "v_proj"))
                                .yaml());
                TrainingPipelineIT.produce(pipeline, dataset, conversations.subList(0, FIRST_PHASE));
                TrainingPipelineIT.settled("the first phase trained", pipeline, runId);
                long stepBefore =
                        TrainingPipelineIT.run(pipeline, runId).path("step").asLong();

                database.stopKeepingData();
                for (ServiceProcess service : withDatabase) {
                    await(
                            service.name() + " not ready without its database",
                            () -> readiness(service).statusCode() == 503);
                    assertThat(readiness(service).body())
                            .as(service.name() + "'s readiness names what is missing")
                            .containsIgnoringCase("database");
                }
                TrainingPipelineIT.produce(pipeline, dataset, conversations.subList(FIRST_PHASE, CONVERSATIONS));

                database.startAgain();
                for (ServiceProcess service : withDatabase) {
                    await(
                            service.name() + " ready again",
                            () -> readiness(service).statusCode() == 200);
                }
                TrainingPipelineIT.settled("every batch trained after the outage", pipeline, runId);

                JsonNode trained = TrainingPipelineIT.run(pipeline, runId);
                assertThat(trained.path("state").asText()).isEqualTo("RUNNING");
                assertThat(trained.path("step").asLong()).isGreaterThan(stepBefore);
                assertThat(pipeline.conversations(dataset)).hasSize(CONVERSATIONS);
                assertThat(deadLetters(broker.bootstrapServers(), dataset, "outage-" + run))
                        .as("nothing is dead-lettered because the database was away")
                        .isEmpty();
                long lastCheckpoint = lastCheckpointStep(pipeline, runId);
                assertThat(lastCheckpoint).isGreaterThan(stepBefore);
                await("the checkpoint written after the outage scored", () -> scored(pipeline, runId, lastCheckpoint));
            }
        }
    }

    private HttpResponse<String> readiness(ServiceProcess service) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(service.uri("/q/health/ready"))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> deadLetters(String kafka, String dataset, String recipeId) {
        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        List<String> reasons = new ArrayList<>();
        new TopicReader(KafkaSettings.bootstrap(kafka)).forEach(Topics.CONVERSATIONS_REJECTED, record -> {
            DeadLetter letter = letters.deserialize(record.topic(), record.value());
            if (dataset.equals(letter.dataset()) || recipeId.equals(letter.recipeId())) {
                reasons.add(letter.stage() + ": " + letter.reason());
            }
        });
        return reasons;
    }

    private static long lastCheckpointStep(Pipeline pipeline, String runId) throws Exception {
        JsonNode written = TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/checkpoints");
        return written.get(written.size() - 1).path("step").asLong();
    }

    /** Whether eval-service's evaluation of the run's checkpoint at {@code step} reached the trainer. */
    private static boolean scored(Pipeline pipeline, String runId, long step) throws Exception {
        for (JsonNode evaluation : TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/evaluations")) {
            if (evaluation.path("step").asLong() == step) {
                return true;
            }
        }
        return false;
    }
}
