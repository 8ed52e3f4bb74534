package dev.streamtune.trainer;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import dev.streamtune.localstack.testing.Producers;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.training.StoryBatches;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.assertj.core.data.Offset;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The trainer through the real broker and database, on stories260K: recipes refused with their keys or accepted,
 * a LoRA run trained from batches on the topic (one of them bad), checkpoints written, announced, recorded and
 * loadable as PEFT folders, lineage answered from the offsets, and a stopped run resumed from its checkpoint.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(PostgresTestResource.class)
class TrainerIT {

    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @Test
    void theRecipeSchemaIsServedBesideTheRecipes() {
        given().when()
                .get("/recipes/schema")
                .then()
                .statusCode(200)
                .contentType(containsString("json"))
                .body("title", equalTo("streamtune recipe"))
                .body("properties.training_config.properties.optim.default", equalTo("adamw_torch"))
                .body("properties.data_config.properties.format_type.enum", hasItem("chatml"));
    }

    @Test
    void everyBadRecipeIsRefusedNamingItsKey() {
        SharedData.models();
        String good = StoriesRecipes.lora("refused", 6, 3);
        List<String[]> cases = List.of(
                new String[] {
                    good.replace("model_config:\n", "model_config:\n  architecture: mamba\n"),
                    "model_config.architecture:"
                },
                new String[] {
                    good.replace("stories260K/stories260K.bin", "missing/model.bin"),
                    "model_config.pretrained_model_name_or_path:"
                },
                new String[] {good.replace("[q_proj, v_proj]", "[c_attn]"), "lora_config.target_modules:"},
                new String[] {good.replace("learning_rate: 5e-3", "learning_rate: -1"), "training_config.learning_rate:"
                },
                new String[] {
                    good.replace("tokenizer: stories260K", "tokenizer: cl100k_base"), "model_config.tokenizer:"
                });
        for (String[] bad : cases) {
            postYaml(bad[0]).then().statusCode(400).body("problems", hasItem(startsWith(bad[1])));
        }
        given().get("/recipes/refused").then().statusCode(404);
    }

    @Test
    void aLoraRunTrainsItsBatchesCheckpointsAndAnswersLineage() throws Exception {
        Path root = SharedData.models();
        String recipe = "lora-it-" + UUID.randomUUID().toString().substring(0, 8);
        JsonPath accepted = postYaml(StoriesRecipes.lora(recipe, 6, 3) + "  unknown_key: 1\n")
                .then()
                .statusCode(202)
                .extract()
                .jsonPath();
        assertThat(accepted.getString("id")).isEqualTo(recipe);
        assertThat(accepted.getList("warnings", String.class)).anyMatch(w -> w.contains("lora_config.unknown_key"));
        String runId = accepted.getString("runId");

        // 12 good batches (6 steps of 2 micro-batches) and a bad one after the 3rd
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 12, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            for (int i = 0; i < batches.size(); i++) {
                send(producer, recipe, new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, batches.get(i)));
                if (i == 2) {
                    send(
                            producer,
                            recipe,
                            new EventSerializer<TrainBatch>()
                                    .serialize(Topics.BATCHES, outsideVocabulary(batches.get(i))));
                }
                send(producer, "someone-else", "not a batch of this recipe".getBytes());
            }
        }

        awaitRun(runId, "state", "FINISHED");
        // a finished run lets its model, gradients and optimiser state go
        assertThat(given().get("/q/metrics").then().extract().asString())
                .contains("trainer_model_loaded{recipe=\"" + recipe + "\"} 0.0");
        JsonPath run = given().get("/runs/" + runId).then().extract().jsonPath();
        assertThat(run.getLong("step")).isEqualTo(6);
        assertThat(run.getString("device")).isNotBlank();
        assertThat(run.getString("dtype")).isEqualTo("float32");
        List<Double> losses = given().get("/runs/" + runId + "/steps")
                .then()
                .extract()
                .jsonPath()
                .getList("loss", Double.class);
        assertThat(losses).hasSize(6);
        assertThat(losses.get(5)).isLessThan(losses.get(0));
        // The curve a page at a time, or thinned out: a full page links to the next.
        var page =
                given().get("/runs/" + runId + "/steps?from=2&limit=2").then().statusCode(200);
        page.body("step", contains(2, 3));
        page.header("Link", containsString("from=4&limit=2&stride=1"));
        given().get("/runs/" + runId + "/steps?stride=2")
                .then()
                .body("step", contains(2, 4, 6))
                .header("Link", nullValue());

        // checkpoints 3 and 6: rows, events with the folder's checksum, PEFT folders that load
        List<CheckpointEvent> events = checkpointEvents(runId);
        assertThat(events).extracting(CheckpointEvent::step).containsExactly(3L, 6L);
        for (CheckpointEvent event : events) {
            Path folder = Path.of(URI.create(event.location()));
            assertThat(CheckpointDigest.of(folder)).isEqualTo(event.checksum());
            assertThat(event.format()).isEqualTo("peft-lora");
            try (NDManager manager = NDManager.newBaseManager()) {
                LoraAdapters adapters = PeftAdapterFolder.load(folder, manager, false);
                assertThat(adapters.weights().keySet())
                        .contains("model.layers.0.self_attn.q_proj", "model.layers.4.self_attn.v_proj");
            }
        }
        JsonPath checkpoints =
                given().get("/runs/" + runId + "/checkpoints").then().extract().jsonPath();
        assertThat(checkpoints.getList("status", String.class)).containsExactly("AVAILABLE", "AVAILABLE");
        assertThat(checkpoints.getList("published", Boolean.class)).containsExactly(true, true);

        // the bad batch is a dead letter naming it, and the run went on
        assertThat(TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                        .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                        .filter(letter -> recipe.equals(letter.recipeId()))
                        .map(DeadLetter::reason))
                .singleElement()
                .asString()
                .contains("token id 9999 outside the model's vocabulary of 512", "the run goes on");

        // a merged export: a Hugging Face folder whose plain forward equals base + adapter
        String merged = given().post("/runs/" + runId + "/export?merge=true")
                .then()
                .statusCode(200)
                .extract()
                .path("location");
        assertMergedEqualsAdapted(root, Path.of(URI.create(events.get(1).location())), Path.of(URI.create(merged)));

        // a download of checkpoint-3: a tar of its folder, its SHA-256 stated before it and beside it
        io.restassured.response.Response download = given().get("/runs/" + runId + "/checkpoints/3/archive")
                .then()
                .statusCode(200)
                .extract()
                .response();
        byte[] tar = download.asByteArray();
        String sha256 = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(tar));
        assertThat(download.header("Content-Type")).startsWith("application/x-tar");
        assertThat(download.header("Content-Disposition")).contains("checkpoint-3.tar");
        assertThat(download.header("Repr-Digest"))
                .isEqualTo("sha-256=:"
                        + java.util.Base64.getEncoder()
                                .encodeToString(java.util.HexFormat.of().parseHex(sha256)) + ":");
        assertThat(given().get("/runs/" + runId + "/checkpoints/3/archive.sha256")
                        .asString())
                .isEqualTo(sha256 + "  checkpoint-3.tar\n");
        given().get("/runs/" + runId + "/checkpoints/4/archive").then().statusCode(404);

        // lineage: checkpoint-3 was trained on the first 6 good batches (the bad one was never trained on)
        JsonPath lineage = given().get("/runs/" + runId + "/checkpoints/3/lineage")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        List<String> expected = new ArrayList<>();
        batches.subList(0, 6).forEach(batch -> expected.addAll(batch.exampleKeys()));
        assertThat(lineage.getList("exampleKeys", String.class)).containsExactlyElementsOf(expected);
        assertThat(lineage.getList("conversationIds", String.class)).contains("story-0", "story-1");
        assertThat(lineage.getLong("examples")).isEqualTo(expected.size());
        assertThat(lineage.getString("nextOffset")).isNull();
        // A page of the keys, in the order they were trained, pointing at the next one; the counts stay whole.
        JsonPath keysPage = given().get("/runs/" + runId + "/checkpoints/3/lineage?offset=2&limit=3")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(keysPage.getList("exampleKeys", String.class)).containsExactlyElementsOf(expected.subList(2, 5));
        assertThat(keysPage.getLong("nextOffset")).isEqualTo(5);
        assertThat(keysPage.getLong("examples")).isEqualTo(expected.size());
        given().get("/runs/" + runId + "/checkpoints/3/lineage?limit=0")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("'limit'"));
        assertThat(given().get("/runs/" + runId + "/checkpoints/6/lineage")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("exampleKeys", String.class))
                .hasSize(batches.stream().mapToInt(b -> b.exampleKeys().size()).sum());

        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains(
                        "trainer_loss{recipe=\"" + recipe + "\"}",
                        "trainer_checkpoints_total{recipe=\"" + recipe,
                        "trainer_step_seconds_count{recipe=\"" + recipe,
                        "trainer_batches_rejected_total{recipe=\"" + recipe);

        // A damaged newest checkpoint and a half-written one: a resume passes over both, says so, restores
        // checkpoint-3 and trains steps 4 to 6 again, to the same losses and a byte-identical checkpoint-6.
        Path newest = Path.of(URI.create(events.get(1).location()));
        Files.write(newest.resolve(PeftAdapterFolder.WEIGHTS), new byte[] {0}, StandardOpenOption.APPEND);
        Files.createDirectories(newest.resolveSibling(".tmp-checkpoint-9-1"));
        given().post("/runs/" + runId + "/resume").then().statusCode(202);
        await().atMost(PATIENCE)
                .until(() -> checkpointEvents(runId).size() == 3
                        && "FINISHED".equals(given().get("/runs/" + runId).path("state")));
        CheckpointEvent again = checkpointEvents(runId).get(2);
        assertThat(again.step()).isEqualTo(6);
        assertThat(again.checksum()).isEqualTo(events.get(1).checksum());
        assertThat(given().get("/runs/" + runId + "/steps")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("loss", Double.class))
                .containsExactlyElementsOf(losses);
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .anySatisfy(reason -> assertThat(reason).contains("resumed at step 3 from checkpoint-3"));
        assertThat(given().get("/q/metrics").then().extract().asString())
                .contains("trainer_checkpoints_corrupt_total{recipe=\"" + recipe + "\"} 1.0");
    }

    /**
     * A stopped run checkpoints where it is, trains nothing while stopped (batches arriving meanwhile wait on the
     * topic), and a resume continues from that checkpoint with exactly the batches after it.
     */
    @Test
    void aStoppedRunResumesFromItsCheckpointWithTheBatchesAfterIt() throws Exception {
        Path root = SharedData.models();
        String recipe = "stop-it-" + UUID.randomUUID().toString().substring(0, 8);
        String runId = postYaml(StoriesRecipes.lora(recipe, 4, 100))
                .then()
                .statusCode(202)
                .extract()
                .path("runId");
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 8, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches.subList(0, 4));
            awaitRun(runId, "step", 2);
            given().post("/runs/" + runId + "/stop").then().statusCode(202);
            awaitRun(runId, "state", "STOPPED");
            assertThat(checkpointEvents(runId))
                    .extracting(CheckpointEvent::step)
                    .containsExactly(2L);

            sendBatches(producer, recipe, batches.subList(4, 8));
        }
        // stopped: the new batches are not trained
        assertThat(given().get("/runs/" + runId).<Integer>path("step")).isEqualTo(2);

        // The checkpoint's offsets name the log they refer to (Kafka's topic id). Had batches been deleted and
        // created again, they would point into another log: the resume refuses, naming both ids, and trains nothing.
        Path manifest =
                Path.of(URI.create(checkpointEvents(runId).get(0).location())).resolve(CheckpointDigest.MANIFEST);
        String written = Files.readString(manifest);
        String topicId;
        try (var admin = Admin.create(Map.of("bootstrap.servers", Infrastructure.kafkaBootstrapServers()))) {
            topicId = admin.describeTopics(List.of(Topics.BATCHES))
                    .allTopicNames()
                    .get()
                    .get(Topics.BATCHES)
                    .topicId()
                    .toString();
        }
        assertThat(new ObjectMapper().readTree(written).path("batchesTopicId").asText())
                .as("the checkpoint names the batches topic its offsets refer to")
                .isEqualTo(topicId);
        String earlier = Uuid.randomUuid().toString();
        Files.writeString(manifest, written.replace(topicId, earlier));
        given().post("/runs/" + runId + "/resume").then().statusCode(202);
        awaitRun(runId, "state", "FAILED");
        assertThat(given().get("/runs/" + runId).<String>path("failure"))
                .contains(
                        "checkpoint-2 was trained from an earlier 'batches' topic",
                        earlier,
                        topicId,
                        "deleted and created again");
        assertThat(given().get("/runs/" + runId).<Integer>path("step")).isEqualTo(2);

        Files.writeString(manifest, written); // the same log after all
        given().post("/runs/" + runId + "/resume").then().statusCode(202);
        awaitRun(runId, "state", "FINISHED");
        assertThat(given().get("/runs/" + runId + "/steps")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("step", Long.class))
                .containsExactly(1L, 2L, 3L, 4L);
        assertThat(checkpointEvents(runId)).extracting(CheckpointEvent::step).containsExactly(2L, 4L);
        assertThat(checkpointEvents(runId)
                        .get(1)
                        .consumedOffsets()
                        .values()
                        .iterator()
                        .next())
                .isEqualTo(checkpointEvents(runId)
                                .get(0)
                                .consumedOffsets()
                                .values()
                                .iterator()
                                .next()
                        + 4);
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("toState", String.class))
                .containsSubsequence("RUNNING", "STOPPED", "STARTING", "FAILED", "STARTING", "RUNNING", "FINISHED");
    }

    /**
     * Evaluations fed back from the evaluations topic: the best checkpoint is kept whatever save_total_limit says,
     * and the run ends, finished, once the validation loss has not improved for early_stopping_patience evaluations.
     */
    @Test
    void evaluationsKeepTheBestCheckpointAndStopTheRunEarly() throws Exception {
        Path root = SharedData.models();
        String recipe = "early-it-" + UUID.randomUUID().toString().substring(0, 8);
        String yaml = streamRecipe(recipe)
                .replace("  seed: 7\n", "  seed: 7\n  early_stopping_patience: 2\n  save_total_limit: 1\n");
        String runId = postYaml(yaml).then().statusCode(202).extract().path("runId");
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 8, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches.subList(0, 4));
            awaitRun(runId, "step", 2);
            evaluate(producer, recipe, runId, 1, 2.0);
            evaluate(producer, recipe, runId, 2, 1.5);
            awaitRun(runId, "bestStep", 2);
            sendBatches(producer, recipe, batches.subList(4, 8));
            awaitRun(runId, "step", 4);
            evaluate(producer, recipe, runId, 3, 1.6);
            assertThat(given().get("/runs/" + runId).<String>path("state")).isEqualTo("RUNNING");
            evaluate(producer, recipe, runId, 4, 1.55);
        }
        awaitRun(runId, "state", "FINISHED");
        assertThat(given().get("/runs/" + runId).<String>path("failure")).isNull();
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .last()
                .asString()
                .contains("early stopping", "step 2");
        JsonPath checkpoints =
                given().get("/runs/" + runId + "/checkpoints").then().extract().jsonPath();
        assertThat(checkpoints.getList("step", Long.class)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(checkpoints.getList("status", String.class))
                .containsExactly("DELETED", "AVAILABLE", "DELETED", "AVAILABLE");
        assertThat(given().get("/runs/" + runId + "/evaluations")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("loss", Double.class))
                .containsExactly(2.0, 1.5, 1.6, 1.55);
    }

    /**
     * Epochs over a stream: the first pass trains the batches as they come; once the stream is quiet they are the
     * run's data, replayed from the topic for the second epoch, and the run finishes after two passes.
     */
    @Test
    void aSecondEpochReplaysTheBatchesOfTheFirstFromTheTopic() throws Exception {
        Path root = SharedData.models();
        String recipe = "epochs-it-" + UUID.randomUUID().toString().substring(0, 8);
        String yaml = StoriesRecipes.lora(recipe, 4, 100)
                .replace("  max_steps: 4\n", "  num_train_epochs: 2\n")
                .replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant");
        String runId = postYaml(yaml).then().statusCode(202).extract().path("runId");
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 4, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches);
        }
        awaitRun(runId, "state", "FINISHED");
        JsonPath run = given().get("/runs/" + runId).then().extract().jsonPath();
        assertThat(run.getLong("step")).isEqualTo(4);
        assertThat(run.getDouble("epoch")).isEqualTo(2.0);
        assertThat(run.getLong("maxSteps"))
                .as("the run's length, known once its first pass closed")
                .isEqualTo(4);
        List<Double> losses = given().get("/runs/" + runId + "/steps")
                .then()
                .extract()
                .jsonPath()
                .getList("loss", Double.class);
        assertThat(losses).hasSize(4);
        // the same batches a second time, after two steps on them: a lower loss
        assertThat(losses.get(2) + losses.get(3)).isLessThan(losses.get(0) + losses.get(1));
        List<CheckpointEvent> events = checkpointEvents(runId);
        assertThat(events).isNotEmpty();
        CheckpointEvent last = events.get(events.size() - 1);
        assertThat(last.step()).isEqualTo(4);
        List<String> expected = new ArrayList<>();
        batches.forEach(batch -> expected.addAll(batch.exampleKeys()));
        assertThat(given().get("/runs/" + runId + "/checkpoints/4/lineage")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("exampleKeys", String.class))
                .containsExactlyElementsOf(expected);
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .last()
                .asString()
                .contains("trained 2.0 epochs", "8 batches of 4 per epoch");
    }

    /**
     * Early stopping decided by evaluations that arrive while the run is stopped: the resume finishes the run at once,
     * training none of the batches that wait, instead of running on until the next evaluation.
     */
    @Test
    void earlyStoppingDecidedWhileStoppedFinishesTheRunOnResume() throws Exception {
        Path root = SharedData.models();
        String recipe = "early-stopped-it-" + UUID.randomUUID().toString().substring(0, 8);
        String yaml = streamRecipe(recipe).replace("  seed: 7\n", "  seed: 7\n  early_stopping_patience: 1\n");
        String runId = postYaml(yaml).then().statusCode(202).extract().path("runId");
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 6, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches.subList(0, 4));
            awaitRun(runId, "step", 2);
            evaluate(producer, recipe, runId, 1, 2.0);
            awaitRun(runId, "bestStep", 1);
            given().post("/runs/" + runId + "/stop").then().statusCode(202);
            awaitRun(runId, "state", "STOPPED");

            evaluate(producer, recipe, runId, 2, 2.5); // no better than step 1: patience 1 is spent
            await().atMost(PATIENCE)
                    .until(() -> given().get("/runs/" + runId + "/evaluations")
                                    .then()
                                    .extract()
                                    .jsonPath()
                                    .getList("step")
                                    .size()
                            == 2);
            assertThat(given().get("/runs/" + runId).<String>path("state"))
                    .as("a stopped run is not finished by it")
                    .isEqualTo("STOPPED");
            sendBatches(producer, recipe, batches.subList(4, 6));
        }
        given().post("/runs/" + runId + "/resume").then().statusCode(202);
        awaitRun(runId, "state", "FINISHED");
        assertThat(given().get("/runs/" + runId).<Integer>path("step"))
                .as("nothing trained after the resume")
                .isEqualTo(2);
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .last()
                .asString()
                .contains("early stopping", "step 1");
    }

    /**
     * Epochs with a cosine schedule, which needs the run's length: the first pass only counts the batches, and once
     * the stream is quiet the run trains every pass from the first batch, its rate following cosine over
     * ceil(2 x 5 / 2) = 5 steps (a warmup step, then down to 0 at the last).
     */
    @Test
    void epochsGiveACosineScheduleItsLengthFromTheData() throws Exception {
        Path root = SharedData.models();
        String recipe = "cosine-it-" + UUID.randomUUID().toString().substring(0, 8);
        String yaml = StoriesRecipes.lora(recipe, 4, 2).replace("  max_steps: 4\n", "  num_train_epochs: 2\n");
        var accepted = postYaml(yaml).then().statusCode(202).extract().jsonPath();
        String runId = accepted.getString("runId");
        assertThat(accepted.getList("warnings", String.class))
                .anySatisfy(w -> assertThat(w).contains("reads the stream without training"));
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 5, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches);
        }
        awaitRun(runId, "state", "FINISHED");
        JsonPath run = given().get("/runs/" + runId).then().extract().jsonPath();
        assertThat(run.getLong("maxSteps")).isEqualTo(5);
        assertThat(run.getLong("step")).isEqualTo(5);
        assertThat(run.getDouble("epoch")).isEqualTo(2.0);
        List<Double> rates = given().get("/runs/" + runId + "/steps")
                .then()
                .extract()
                .jsonPath()
                .getList("learningRate", Double.class);
        var cosine = new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 5e-3, 1, 5);
        assertThat(rates).hasSize(5);
        for (int step = 0; step < 5; step++) {
            // the step rows keep the rate in single precision
            assertThat(rates.get(step)).as("step %d", step + 1).isCloseTo(cosine.at(step), Offset.offset(1e-9));
        }
        // every batch trained twice, the first pass's included: the last checkpoint covers all of them
        List<String> expected = new ArrayList<>();
        batches.forEach(batch -> expected.addAll(batch.exampleKeys()));
        assertThat(given().get("/runs/" + runId + "/checkpoints/5/lineage")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("exampleKeys", String.class))
                .containsExactlyElementsOf(expected);
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .last()
                .asString()
                .contains("trained 2.0 epochs", "10 batches of 5 per epoch");

        // Resumed from checkpoint-2 (the newer ones damaged), the run takes its length from that checkpoint: steps
        // 3 to 5 are trained again at the same cosine rates, not at a constant one.
        List<CheckpointEvent> events = checkpointEvents(runId);
        assertThat(events).extracting(CheckpointEvent::step).containsExactly(2L, 4L, 5L);
        for (CheckpointEvent event : events.subList(1, 3)) {
            Files.write(
                    Path.of(URI.create(event.location())).resolve(PeftAdapterFolder.WEIGHTS),
                    new byte[] {0},
                    StandardOpenOption.APPEND);
        }
        given().post("/runs/" + runId + "/resume").then().statusCode(202);
        await().atMost(PATIENCE)
                .until(() -> checkpointEvents(runId).size() == 5
                        && "FINISHED".equals(given().get("/runs/" + runId).path("state")));
        assertThat(given().get("/runs/" + runId + "/transitions")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("reason", String.class))
                .anySatisfy(reason -> assertThat(reason).contains("resumed at step 2 from checkpoint-2"));
        List<Double> again = given().get("/runs/" + runId + "/steps")
                .then()
                .extract()
                .jsonPath()
                .getList("learningRate", Double.class);
        assertThat(again).hasSize(5);
        for (int step = 0; step < 5; step++) {
            assertThat(again.get(step))
                    .as("after the resume, step %d", step + 1)
                    .isCloseTo(cosine.at(step), Offset.offset(1e-9));
        }
    }

    /**
     * PostgreSQL drops every connection of the service while a run trains (a failover, an administrator): whichever
     * call meets the dead connections first (a step's row, a checkpoint's, the run's state), it is a failure of the
     * infrastructure, not of a batch. The run goes on from its newest checkpoint, every step is trained once, and no
     * batch of the recipe becomes a dead letter.
     */
    @Test
    void droppedDatabaseConnectionsMidRunDeadLetterNoBatch() throws Exception {
        Path root = SharedData.models();
        String recipe = "db-it-" + UUID.randomUUID().toString().substring(0, 8);
        String runId = postYaml(StoriesRecipes.lora(recipe, 4, 1))
                .then()
                .statusCode(202)
                .extract()
                .path("runId");
        List<TrainBatch> batches = StoryBatches.make(root.resolve("stories260K/tok512.bin"), recipe, 8, 2, 64);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            sendBatches(producer, recipe, batches.subList(0, 4));
            awaitRun(runId, "step", 2);
            Config config = ConfigProvider.getConfig();
            try (Connection admin = DriverManager.getConnection(
                            config.getValue("quarkus.datasource.jdbc.url", String.class),
                            config.getOptionalValue("quarkus.datasource.username", String.class)
                                    .orElse(""),
                            config.getOptionalValue("quarkus.datasource.password", String.class)
                                    .orElse(""));
                    Statement statement = admin.createStatement()) {
                statement.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname ="
                        + " current_database() and pid <> pg_backend_pid()");
            }
            sendBatches(producer, recipe, batches.subList(4, 8));
        }
        await().atMost(PATIENCE)
                .ignoreExceptions()
                .until(() -> "FINISHED".equals(given().get("/runs/" + runId).path("state")));
        assertThat(given().get("/runs/" + runId + "/steps")
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("step", Long.class))
                .containsExactly(1L, 2L, 3L, 4L);
        assertThat(TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                        .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                        .filter(letter -> recipe.equals(letter.recipeId())))
                .as("dead letters of the recipe")
                .isEmpty();
    }

    private static void evaluate(
            KafkaProducer<String, byte[]> producer, String recipe, String runId, long step, double loss)
            throws Exception {
        Evaluation evaluation = new Evaluation(
                Evaluation.SCHEMA_VERSION,
                recipe,
                runId,
                step,
                "file:///checkpoint-" + step,
                Split.VALID,
                10,
                100,
                loss,
                Math.exp(loss),
                0.5,
                null,
                Instant.now());
        producer.send(new ProducerRecord<>(
                        Topics.EVALUATIONS,
                        recipe,
                        new EventSerializer<Evaluation>().serialize(Topics.EVALUATIONS, evaluation)))
                .get(30, TimeUnit.SECONDS);
    }

    private static Response postYaml(String yaml) {
        return given().contentType("application/yaml")
                .body(yaml.getBytes(StandardCharsets.UTF_8))
                .post("/recipes");
    }

    private static void assertMergedEqualsAdapted(Path models, Path adapter, Path merged) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            var base = ModelSource.at(models.resolve("stories260K/stories260K.bin"))
                    .load(0, Precision.FLOAT32, manager);
            base.setAdapters(PeftAdapterFolder.load(adapter, base, manager, false));
            var plain = ModelSource.at(merged).load(0, Precision.FLOAT32, manager);
            var tokens = manager.create(new int[][] {{1, 403, 261, 370, 297, 410, 285, 79, 323, 354}});
            float[] adapted = base.forward(tokens, null, false).toFloatArray();
            float[] folded = plain.forward(tokens, null, false).toFloatArray();
            assertThat(folded).hasSameSizeAs(adapted);
            for (int i = 0; i < adapted.length; i++) {
                assertThat(folded[i]).as("logit %d", i).isCloseTo(adapted[i], Offset.offset(2e-4f));
            }
        }
    }

    private static TrainBatch outsideVocabulary(TrainBatch batch) {
        PackedSequence row = batch.sequences().get(0);
        int[] ids = row.inputIds().toArray();
        ids[3] = 9999;
        return new TrainBatch(
                1,
                batch.recipeId(),
                999,
                batch.sequenceLength(),
                List.of(new PackedSequence(
                        TokenIds.of(ids),
                        row.labels(),
                        row.positionIds(),
                        row.documentStarts(),
                        row.length(),
                        row.trainableTokens())),
                row.trainableTokens(),
                batch.sequenceLength(),
                List.of("bad:one"),
                null,
                null);
    }

    /** A LoRA recipe with no length (it trains the stream as it comes), a constant rate and a checkpoint every step. */
    private static String streamRecipe(String recipe) {
        return StoriesRecipes.lora(recipe, 4, 1)
                .replace("  max_steps: 4\n", "")
                .replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant");
    }

    /** Sends each batch to {@code batches} under the recipe's key, acknowledged. */
    private static void sendBatches(KafkaProducer<String, byte[]> producer, String recipe, List<TrainBatch> batches)
            throws Exception {
        for (TrainBatch batch : batches) {
            send(producer, recipe, new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, batch));
        }
    }

    /** Waits until the run's {@code field} (state, step, bestStep) shows {@code value}. */
    private static void awaitRun(String runId, String field, Object value) {
        await().atMost(PATIENCE)
                .until(() -> value.equals(given().get("/runs/" + runId).path(field)));
    }

    private static void send(KafkaProducer<String, byte[]> producer, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(Topics.BATCHES, key, value)).get(30, TimeUnit.SECONDS);
    }

    private static List<CheckpointEvent> checkpointEvents(String runId) {
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CHECKPOINTS).stream()
                .map(r -> new CheckpointEventDeserializer().deserialize(r.topic(), r.value()))
                .filter(event -> event.runId().equals(runId))
                .toList();
    }
}
