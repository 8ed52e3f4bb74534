package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.TrainingSession;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A run's life cycle through the services as they run in production: a recipe replaced by a new version while its
 * run trains, another deleted, and trainer-service killed with SIGKILL right after a checkpoint that ends a pass
 * over a run's data. The replaced and the deleted runs end STOPPED saying why, the restarted trainer loads the
 * models of the latest versions only, the run with epochs begins its next pass from that checkpoint and finishes
 * with the losses of an uninterrupted run, and the models the trainer holds are what its runs need.
 */
class RunLifecycleIT {

    /** The run with epochs: big enough (GPT-2's vocabulary in its head) that a step takes a while to train. */
    private static final int EPOCH_ROW = 64;

    private static final int SMALL_ROW = 32;

    @Test
    void replacedAndDeletedRecipesEndAndAKillAtTheEndOfAPassResumesTheNextOne() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path checkpoints = Pipeline.ROOT.resolve("pipeline-tests/target/lifecycle-" + run + "/checkpoints");
        try (Pipeline pipeline = Pipeline.start(
                Infrastructure.kafkaBootstrapServers(),
                Infrastructure.database(),
                "lifecycle-" + run,
                Pipeline.ROOT,
                Map.of(
                        "TRAINER_CHECKPOINT_ROOT", checkpoints.toString(),
                        "TRAINER_STREAM_END_AFTER", "PT3S",
                        "TRAINER_CHECKPOINT_WHEN_IDLE", "PT1H"))) {
            String epochs = "epochs-" + run;
            String replaced = "replaced-" + run;
            String deleted = "deleted-" + run;
            String epochsYaml = recipe(epochs, 128, EPOCH_ROW)
                    .training("finetuning_type", "full")
                    .training("num_train_epochs", 3)
                    .yaml();
            String epochsRun = TrainingPipelineIT.post(pipeline, epochsYaml);
            String replacedV1 = TrainingPipelineIT.post(pipeline, smallLora(replaced, 32));
            String deletedRun = TrainingPipelineIT.post(pipeline, smallLora(deleted, 32));
            produce(pipeline, replaced, 4, SMALL_ROW);
            produce(pipeline, deleted, 4, SMALL_ROW);
            awaitRun(pipeline, replacedV1, "step", "2");
            awaitRun(pipeline, deletedRun, "step", "2");

            // a new version of a recipe while its run trains: the old run ends, naming the new one, which trains
            // the recipe's batches from the start
            String replacedV2 = TrainingPipelineIT.post(pipeline, smallLora(replaced, 48));
            assertThat(replacedV2).isNotEqualTo(replacedV1);
            awaitRun(pipeline, replacedV1, "state", "STOPPED");
            assertThat(lastReason(pipeline, replacedV1)).contains("replaced by a new version", replacedV2);
            awaitRun(pipeline, replacedV2, "step", "2");

            delete(pipeline, deleted);
            awaitRun(pipeline, deletedRun, "state", "STOPPED");
            assertThat(lastReason(pipeline, deletedRun)).contains("was deleted");
            assertThat(metric(pipeline, "trainer_models_held"))
                    .as("the replaced and the deleted runs let theirs go")
                    .isEqualTo(2.0);

            // 4 batches, 2 a step, 3 passes, a checkpoint every 2 steps: checkpoint-4 ends the second pass
            try (KafkaConsumer<String, byte[]> announcements = checkpointReader(pipeline)) {
                produce(pipeline, epochs, 4, EPOCH_ROW);
                CheckpointEvent endOfPass = awaitCheckpoint(announcements, epochsRun, 4);
                pipeline.trainer.kill();
                assertThat(endOfPass.step()).isEqualTo(4);
            }
            pipeline.trainer.restart();

            awaitRun(pipeline, epochsRun, "state", "FINISHED");
            JsonNode finished = TrainingPipelineIT.run(pipeline, epochsRun);
            assertThat(finished.path("step").asLong()).isEqualTo(6);
            assertThat(reasons(pipeline, epochsRun))
                    .anySatisfy(reason -> assertThat(reason)
                            .contains("resumed at step 4", "the checkpoint ended a pass; the next one begins"));
            assertThat(losses(pipeline, epochsRun))
                    .as("the losses of an uninterrupted run")
                    .usingElementComparator((a, b) -> Math.abs(a - b) <= 1e-5 * (1 + Math.abs(b)) ? 0 : 1)
                    .containsExactlyElementsOf(uninterrupted(epochsYaml, epochs));

            // the restarted trainer loaded only the recipes' latest versions: the replaced run's new version
            awaitRun(pipeline, replacedV2, "state", "RUNNING");
            assertThat(TrainingPipelineIT.run(pipeline, replacedV1)
                            .path("state")
                            .asText())
                    .isEqualTo("STOPPED");
            assertThat(TrainingPipelineIT.run(pipeline, deletedRun)
                            .path("state")
                            .asText())
                    .isEqualTo("STOPPED");
            assertThat(metric(pipeline, "trainer_models_held")).isEqualTo(1.0);
            assertThat(Files.readAllLines(pipeline.trainer.log()).stream()
                            .filter(line -> line.contains("started training run " + replacedV1)
                                    || line.contains("started training run " + deletedRun)))
                    .as("superseded versions started")
                    .hasSize(2); // once each, in the first process only
        }
    }

    /** A from-scratch Llama over GPT-2's vocabulary, as ./run-local trains, with {@code training} added. */
    private static RecipeYaml recipe(String id, int hidden, int row) {
        return RecipeYaml.withId(id)
                .model("architecture", "llama")
                .model("tokenizer", "r50k_base")
                .model("hidden_size", hidden)
                .model("intermediate_size", 2 * hidden)
                .model("num_hidden_layers", 2)
                .model("num_attention_heads", 4)
                .data("max_seq_length", row)
                .training("learning_rate", "3e-3")
                .training("lr_scheduler_type", "constant_with_warmup")
                .training("warmup_steps", 1)
                .training("gradient_accumulation_steps", 2)
                .training("save_steps", 2)
                .training("seed", 5);
    }

    /** A LoRA of 50 steps on rows of {@code SMALL_ROW} tokens. */
    private static String smallLora(String id, int hidden) {
        return recipe(id, hidden, SMALL_ROW)
                .training("max_steps", 50)
                .lora("r", 4)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .yaml();
    }

    /** Batch {@code index} of a recipe: 2 rows of random GPT-2 tokens, every one but the first trained. */
    private static TrainBatch batch(String recipeId, int index, int row) {
        Random random = new Random(17L * index + recipeId.hashCode());
        List<PackedSequence> rows = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int[] ids = random.ints(row, 1, 1000).toArray();
            int[] labels = ids.clone();
            labels[0] = PackedSequence.IGNORE_INDEX;
            int[] positions = new int[row];
            Arrays.setAll(positions, i -> i);
            rows.add(new PackedSequence(
                    TokenIds.of(ids), TokenIds.of(labels), TokenIds.of(positions), List.of(0), row, row - 1));
            keys.add(recipeId + ":conversation-" + index + "-" + r);
        }
        return new TrainBatch(
                TrainBatch.SCHEMA_VERSION,
                recipeId,
                index,
                row,
                rows,
                2L * (row - 1),
                2L * row,
                keys,
                Map.of(0, (long) index),
                Instant.parse("2026-12-01T00:00:00Z"));
    }

    private static void produce(Pipeline pipeline, String recipeId, int count, int row) throws Exception {
        try (KafkaProducer<String, byte[]> producer = pipeline.producer()) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(
                                Topics.BATCHES,
                                recipeId,
                                new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, batch(recipeId, i, row))))
                        .get();
            }
        }
    }

    /** The losses the recipe's run has on its 4 batches trained 3 times in order, in this JVM, uninterrupted. */
    private static List<Double> uninterrupted(String yaml, String recipeId) throws Exception {
        TrainingPlan plan = new TrainingPlans(Pipeline.ROOT)
                .of(RecipeParser.parse(yaml, "recipe.yaml").recipe());
        List<Double> losses = new ArrayList<>();
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            for (int pass = 0; pass < 3; pass++) {
                for (int i = 0; i < 4; i++) {
                    TrainingSession.Step step = session.train(BatchTensors.of(
                            batch(recipeId, i, EPOCH_ROW),
                            session.model().vocabSize(),
                            session.model().maxPositions()));
                    if (step != null) {
                        losses.add(step.loss());
                    }
                }
            }
        }
        return losses;
    }

    private static KafkaConsumer<String, byte[]> checkpointReader(Pipeline pipeline) {
        Properties settings = new Properties();
        settings.put("bootstrap.servers", pipeline.kafka);
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.CHECKPOINTS).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // the end as it is now: announcements from here on
        return consumer;
    }

    /** Reads announcements until the run's checkpoint of {@code step}, as soon as it is acknowledged. */
    private static CheckpointEvent awaitCheckpoint(KafkaConsumer<String, byte[]> consumer, String runId, long step) {
        long deadline = System.nanoTime() + Accounting.PATIENCE.toNanos();
        CheckpointEventDeserializer events = new CheckpointEventDeserializer();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                CheckpointEvent event = events.deserialize(record.topic(), record.value());
                if (event.runId().equals(runId) && event.step() == step) {
                    return event;
                }
            }
        }
        throw new AssertionError("no checkpoint-" + step + " of run " + runId + " within " + Accounting.PATIENCE);
    }

    private static void awaitRun(Pipeline pipeline, String runId, String field, String value) {
        Awaitility.await(runId + " " + field + " " + value)
                .atMost(Accounting.PATIENCE)
                .pollInterval(Duration.ofMillis(250))
                .ignoreExceptions()
                .until(() -> value.equals(
                        TrainingPipelineIT.run(pipeline, runId).path(field).asText()));
    }

    private static List<String> reasons(Pipeline pipeline, String runId) throws Exception {
        List<String> reasons = new ArrayList<>();
        TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/transitions")
                .forEach(transition -> reasons.add(transition.path("reason").asText()));
        return reasons;
    }

    private static String lastReason(Pipeline pipeline, String runId) throws Exception {
        List<String> reasons = reasons(pipeline, runId);
        return reasons.get(reasons.size() - 1);
    }

    private static List<Double> losses(Pipeline pipeline, String runId) throws Exception {
        List<Double> losses = new ArrayList<>();
        TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/steps")
                .forEach(step -> losses.add(step.path("loss").asDouble()));
        return losses;
    }

    private static void delete(Pipeline pipeline, String recipeId) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri("/recipes/" + recipeId))
                                .DELETE()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 299);
    }

    /** A gauge of trainer-service's /q/metrics (without tags). */
    private static double metric(Pipeline pipeline, String name) throws Exception {
        String body = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri("/q/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        return body.lines()
                .filter(line -> line.startsWith(name + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not in /q/metrics"));
    }
}
