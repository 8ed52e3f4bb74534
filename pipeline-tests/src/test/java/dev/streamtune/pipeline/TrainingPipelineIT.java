package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.jola.JolaFile;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.TrainingSession;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.assertj.core.data.Percentage;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Real ShareGPT conversations through ingest, format and tokenize into a LoRA and a JoLA run of the trainer on
 * stories260K, with {@code kill -9} of the trainer between two phases of data, after steps it had not yet
 * checkpointed: each run's loss sequence, and the offsets its final checkpoint consumed, equal an uninterrupted
 * run's over the same batches (replayed here, in this JVM, with the trainer's own training loop). eval-service scores
 * the base and every checkpoint on the validation examples the pipeline made, the trainer hears of it, and a
 * {@code kill -9} of the evaluator reads and scores nothing again.
 */
class TrainingPipelineIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FIRST_PHASE = 6;
    private static final int CONVERSATIONS = 60;

    @Test
    void killingTheTrainerMidRunChangesNoLossAndNoOffset() throws Exception {
        Path models = SharedData.models();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "train-" + run;
        Path checkpoints = Pipeline.ROOT.resolve("pipeline-tests/target/train-" + run + "/checkpoints");
        List<JsonNode> conversations = sharegptConversations();

        try (Pipeline pipeline = Pipeline.start(
                Infrastructure.kafkaBootstrapServers(),
                Infrastructure.database(),
                "train-" + run,
                models,
                Map.of(
                        "TRAINER_CHECKPOINT_ROOT",
                        checkpoints.toString(),
                        // no checkpoint when the stream pauses: the kill must lose steps that were not saved
                        "TRAINER_CHECKPOINT_WHEN_IDLE",
                        "PT1H"))) {
            String lora = post(
                    pipeline,
                    recipe("lora-" + run, dataset)
                            .lora("r", 4)
                            .lora("lora_alpha", 8)
                            .lora("lora_dropout", 0.1)
                            .lora("target_modules", List.of("q_proj", "k_proj", "v_proj", "o_proj"))
                            .yaml());
            String jola = post(
                    pipeline,
                    recipe("jola-" + run, dataset)
                            .jola("gate_scheduler", "expon")
                            .jola("gate_lambda", 0.0004)
                            .yaml());

            produce(pipeline, dataset, conversations.subList(0, FIRST_PHASE));
            settled("the first phase trained", pipeline, lora, jola);
            long loraBeforeKill = run(pipeline, lora).path("step").asLong();
            Map<String, List<Double>> beforeKill = Map.of(lora, losses(pipeline, lora), jola, losses(pipeline, jola));
            pipeline.trainer.kill();

            produce(pipeline, dataset, conversations.subList(FIRST_PHASE, CONVERSATIONS));
            pipeline.trainer.restart();
            settled("every batch trained", pipeline, lora, jola);
            assertThat(run(pipeline, lora).path("step").asLong()).isGreaterThan(loraBeforeKill);

            for (String runId : List.of(lora, jola)) {
                // The steps trained before the kill, those after the last checkpoint included (trained again after
                // the restart, their rows replaced), are bit for bit what they were.
                assertThat(losses(pipeline, runId)
                                .subList(0, beforeKill.get(runId).size()))
                        .as("run %s: losses before the kill against the same steps after the resume", runId)
                        .containsExactlyElementsOf(beforeKill.get(runId));
                assertResumedExactly(pipeline, models, runId);
            }
            // after the replays: any other computation in this JVM before them could move float32 results in the
            // last bits, and the comparison above is exact
            for (String runId : List.of(lora, jola)) {
                assertLearns(pipeline, models, runId);
                JsonNode written = get(pipeline, "/runs/" + runId + "/checkpoints");
                long step = written.get(written.size() - 1).path("step").asLong();
                JsonNode lineage = get(pipeline, "/runs/" + runId + "/checkpoints/" + step + "/lineage");
                assertThat(lineage.path("examplesPerDataset").fieldNames())
                        .toIterable()
                        .containsExactly(dataset);
                assertThat(lineage.path("examplesPerDataset").path(dataset).asLong())
                        .isEqualTo(lineage.path("examples").asLong())
                        .isEqualTo(lineage.path("exampleKeys").size())
                        .isPositive();
            }
            for (String runId : List.of(lora, jola)) {
                assertEvaluated(pipeline, models, runId);
            }
            assertEvalRestartsWhereItStopped(
                    pipeline, run(pipeline, lora).path("recipeId").asText());
        }
    }

    /**
     * eval-service killed and started again: the recipe's eval sets are where they were, and nothing is read or
     * scored again (the new process stores no example and adds no evaluation).
     */
    private static void assertEvalRestartsWhereItStopped(Pipeline pipeline, String recipeId) throws Exception {
        JsonNode setsBefore =
                evalGet(pipeline, "/recipes/" + recipeId + "/sets").path("sizes");
        int rowsBefore =
                evalGet(pipeline, "/recipes/" + recipeId + "/evaluations").size();
        pipeline.eval.kill();
        pipeline.eval.restart();
        Awaitility.await("eval-service's sets complete again")
                .atMost(Duration.ofSeconds(60))
                .until(() -> evalGet(pipeline, "/recipes/" + recipeId + "/sets")
                        .path("complete")
                        .asBoolean());
        assertThat(evalGet(pipeline, "/recipes/" + recipeId + "/sets").path("sizes"))
                .isEqualTo(setsBefore);
        Awaitility.await("no evaluation added after the restart")
                .pollInterval(Duration.ofSeconds(1))
                .during(Duration.ofSeconds(5))
                .atMost(Duration.ofSeconds(30))
                .until(() -> evalGet(pipeline, "/recipes/" + recipeId + "/evaluations")
                                .size()
                        == rowsBefore);
        HttpResponse<String> metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.eval.uri("/q/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.body()
                        .lines()
                        .filter(line -> line.startsWith("eval_examples_total{")
                                && line.contains("recipe=\"" + recipeId + "\"")))
                .as("examples read again after the restart")
                .isEmpty();
    }

    /**
     * eval-service scored the base and every checkpoint the run announced, on the validation examples the real
     * format and tokenize services made of the ShareGPT data: the base's loss is a direct computation's on those
     * examples, and the trainer heard of every checkpoint's evaluation.
     */
    static void assertEvaluated(Pipeline pipeline, Path models, String runId) throws Exception {
        String recipeId = run(pipeline, runId).path("recipeId").asText();
        TopicReader topics = new TopicReader(pipeline.kafkaSettings);
        Set<String> checksums = topics.readAll(Topics.CHECKPOINTS).stream()
                .map(r -> new CheckpointEventDeserializer().deserialize(r.topic(), r.value()))
                .filter(e -> e.runId().equals(runId))
                .map(CheckpointEvent::checksum)
                .collect(Collectors.toSet());
        assertThat(checksums).isNotEmpty();
        Awaitility.await("eval-service scores run " + runId)
                .atMost(Accounting.PATIENCE)
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    JsonNode rows = evalGet(pipeline, "/recipes/" + recipeId + "/checkpoints");
                    long done = 0;
                    for (JsonNode row : rows) {
                        String status = row.path("status").asText();
                        if (status.equals("SCORED") || status.equals("FAILED")) {
                            done++;
                        }
                    }
                    return rows.size() == checksums.size() + 1 && done == rows.size();
                });
        for (JsonNode row : evalGet(pipeline, "/recipes/" + recipeId + "/checkpoints")) {
            assertThat(row.path("status").asText())
                    .as("checkpoint %s of %s: %s", row.path("step"), runId, row.path("detail"))
                    .isEqualTo("SCORED");
        }

        JsonNode evaluations = evalGet(pipeline, "/recipes/" + recipeId + "/evaluations");
        JsonNode base = null;
        for (JsonNode evaluation : evaluations) {
            if (evaluation.path("base").asBoolean()
                    && evaluation.path("split").asText().equals("valid")) {
                base = evaluation;
            }
        }
        assertThat(base).as("the base model's validation scores of " + recipeId).isNotNull();
        List<String> keys = new ArrayList<>();
        evalGet(pipeline, "/recipes/" + recipeId + "/sets/valid").forEach(key -> keys.add(key.asText()));
        keys.subList(base.path("examples").asInt(), keys.size()).clear();
        Map<String, EvalExample> examples = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record : topics.readAll(Topics.EVAL_EXAMPLES)) {
            var example = new EvalExampleDeserializer().deserialize(record.topic(), record.value());
            if (recipeId.equals(example.recipeId())) {
                examples.put(example.key(), example);
            }
        }
        double lossSum = 0;
        long tokens = 0;
        try (var manager = Compute.newManager()) {
            var model = ModelSource.at(models.resolve("stories260K/stories260K.bin"))
                    .load(11, Precision.FLOAT32, manager);
            for (String key : keys) {
                var example = examples.get(key);
                try (var scope = manager.newSubManager()) {
                    var logits = model.forward(
                            scope.create(new int[][] {example.inputIds().toArray()}), null, false);
                    var loss = CausalLmLoss.sum(
                            logits, scope.create(new int[][] {example.labels().toArray()}));
                    lossSum += loss.loss().toType(DataType.FLOAT64, false).getDouble();
                    tokens += loss.tokens();
                }
            }
        }
        assertThat(keys).isNotEmpty();
        assertThat(base.path("tokens").asLong()).isEqualTo(tokens);
        assertThat(base.path("loss").asDouble())
                .as("base validation loss of " + recipeId)
                .isCloseTo(lossSum / tokens, Percentage.withPercentage(1e-3));

        // fed back: the trainer recorded every checkpoint's validation score
        Set<Long> scoredSteps = new TreeSet<>();
        for (JsonNode evaluation : evaluations) {
            if (!evaluation.path("base").asBoolean()
                    && evaluation.path("split").asText().equals("valid")) {
                scoredSteps.add(evaluation.path("step").asLong());
            }
        }
        Awaitility.await("the trainer hears of run " + runId + "'s evaluations")
                .atMost(Duration.ofSeconds(60))
                .until(() -> {
                    Set<Long> heard = new TreeSet<>();
                    for (JsonNode evaluation : get(pipeline, "/runs/" + runId + "/evaluations")) {
                        if (evaluation.path("split").asText().equals("valid")
                                && evaluation.path("step").asLong() > 0) {
                            heard.add(evaluation.path("step").asLong());
                        }
                    }
                    return heard.equals(scoredSteps);
                });
    }

    static JsonNode evalGet(Pipeline pipeline, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.eval.uri(path))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The service's losses and final offsets against this JVM's uninterrupted replay of the same batches. */
    static void assertResumedExactly(Pipeline pipeline, Path models, String runId) throws Exception {
        JsonNode run = run(pipeline, runId);
        String recipeId = run.path("recipeId").asText();
        List<Double> served = new ArrayList<>();
        get(pipeline, "/runs/" + runId + "/steps")
                .forEach(step -> served.add(step.path("loss").asDouble()));
        assertThat(served).hasSize(run.path("step").asInt()).isNotEmpty();

        Recipe recipe = EventJson.mapper()
                .treeToValue(get(pipeline, "/recipes/" + recipeId).path("recipe"), Recipe.class);
        var plan = new TrainingPlans(models).of(recipe);
        List<Double> replayed = new ArrayList<>();
        long nextOffset = -1;
        TrainBatchDeserializer reader = new TrainBatchDeserializer();
        List<ConsumerRecord<String, byte[]>> records = new TopicReader(pipeline.kafkaSettings)
                .readAll(Topics.BATCHES).stream()
                        .filter(r -> recipeId.equals(r.key()))
                        .toList();
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            for (ConsumerRecord<String, byte[]> record : records) {
                if (replayed.size() == served.size()) {
                    break;
                }
                TrainBatch batch = reader.deserialize(record.topic(), record.value());
                TrainingSession.Step step = session.train(BatchTensors.of(batch, 512, 512));
                if (step != null) {
                    replayed.add(step.loss());
                    nextOffset = record.offset() + 1;
                }
            }
        }
        // Another JVM computes the same float32 operations; its results may differ in the last bits (libtorch's
        // kernels are not guaranteed bit-identical across processes), so the replay is compared to 1e-5 relative.
        assertThat(served)
                .as("run %s: losses served after kill -9 and resume vs an uninterrupted replay", runId)
                .hasSameSizeAs(replayed);
        for (int i = 0; i < served.size(); i++) {
            assertThat(served.get(i))
                    .as("run %s, step %d", runId, i + 1)
                    .isCloseTo(replayed.get(i), Percentage.withPercentage(1e-3));
        }

        List<CheckpointEvent> events = new TopicReader(pipeline.kafkaSettings)
                .readAll(Topics.CHECKPOINTS).stream()
                        .map(r -> new CheckpointEventDeserializer().deserialize(r.topic(), r.value()))
                        .filter(e -> e.runId().equals(runId))
                        .toList();
        CheckpointEvent last = events.get(events.size() - 1);
        if (last.step() == served.size()) {
            assertThat(last.consumedOffsets()).containsEntry(0, nextOffset);
        }
        Path folder = Path.of(URI.create(last.location()));
        try (var manager = Compute.newManager()) {
            if (last.format().equals("jola")) {
                assertThat(JolaFile.load(folder, manager).parameters()).hasSize(4 * 5);
            } else {
                assertThat(PeftAdapterFolder.load(folder, manager, false).weights())
                        .hasSize(4 * 5);
            }
        }
    }

    /**
     * The run learns: its first batches score better (evaluation mode, no dropout, deterministic gates) with its
     * final checkpoint's weights than with the untrained model's. (Losses of different steps are losses of different
     * text, so they are not compared.)
     */
    private static void assertLearns(Pipeline pipeline, Path models, String runId) throws Exception {
        String recipeId = run(pipeline, runId).path("recipeId").asText();
        Recipe recipe = EventJson.mapper()
                .treeToValue(get(pipeline, "/recipes/" + recipeId).path("recipe"), Recipe.class);
        var plan = new TrainingPlans(models).of(recipe);
        TrainBatchDeserializer reader = new TrainBatchDeserializer();
        List<BatchTensors> first = new TopicReader(pipeline.kafkaSettings)
                .readAll(Topics.BATCHES).stream()
                        .filter(r -> recipeId.equals(r.key()))
                        .limit(6)
                        .map(r -> BatchTensors.of(reader.deserialize(r.topic(), r.value()), 512, 512))
                        .toList();
        JsonNode checkpoints = get(pipeline, "/runs/" + runId + "/checkpoints");
        Path last = Path.of(URI.create(
                checkpoints.get(checkpoints.size() - 1).path("location").asText()));
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            double before = evaluationLoss(session, first);
            session.restoreState(last, null);
            double after = evaluationLoss(session, first);
            assertThat(after)
                    .as("run %s: loss on its first batches with its last checkpoint against untrained", runId)
                    .isLessThan(before);
        }
    }

    /** Mean loss over the trained tokens of {@code batches}, without gradients or training-time randomness. */
    private static double evaluationLoss(TrainingSession session, List<BatchTensors> batches) {
        double sum = 0;
        long tokens = 0;
        try (var manager = Compute.newManager()) {
            for (BatchTensors batch : batches) {
                try (var scope = manager.newSubManager()) {
                    var logits = session.model().forward(scope.create(batch.tokens()), batch.packing(), false);
                    var loss = CausalLmLoss.sum(logits, scope.create(batch.labels()));
                    sum += loss.loss().toType(DataType.FLOAT64, false).getDouble();
                    tokens += loss.tokens();
                }
            }
        }
        return sum / tokens;
    }

    /** The ShareGPT sample's conversations, in file order. */
    static List<JsonNode> sharegptConversations() throws IOException {
        List<JsonNode> conversations = new ArrayList<>();
        new ObjectMapper().readTree(SharedData.shareGpt().toFile()).forEach(conversations::add);
        return conversations;
    }

    /**
     * A recipe over the dataset with stories260K and its tokenizer: ChatML rows of 64 tokens, 2 to a batch, split
     * into windows when longer; 2 micro-batches a step, a checkpoint every 3 steps; eval-service generates for 2 examples a split, 16 tokens each.
     */
    static RecipeYaml recipe(String id, String dataset) {
        return RecipeYaml.withId(id)
                .stories260K()
                .data("datasets", List.of(dataset))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", 64)
                .data("truncation", "split")
                .data("packing", true)
                .training("learning_rate", "5e-3")
                .training("lr_scheduler_type", "constant_with_warmup")
                .training("warmup_steps", 2)
                .training("per_device_train_batch_size", 2)
                .training("gradient_accumulation_steps", 2)
                .training("save_steps", 3)
                .training("seed", 11)
                .generation("num_samples", 2)
                .generation("max_new_tokens", 16);
    }

    static String post(Pipeline pipeline, String yaml) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri("/recipes"))
                                .header("Content-Type", "application/yaml")
                                .POST(HttpRequest.BodyPublishers.ofString(yaml))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return JSON.readTree(response.body()).path("runId").asText();
    }

    static void produce(Pipeline pipeline, String dataset, List<JsonNode> conversations) throws Exception {
        try (KafkaProducer<String, byte[]> producer = pipeline.producer()) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (JsonNode conversation : conversations) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(
                        Topics.CONVERSATIONS_RAW,
                        conversation.path("id").asText(),
                        JSON.writeValueAsBytes(conversation));
                record.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                acks.add(producer.send(record));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
    }

    /** Waits until both runs have trained every batch, and that stays so for a few seconds (tokenize is done). */
    static void settled(String what, Pipeline pipeline, String... runIds) throws Exception {
        try {
            Awaitility.await(what)
                    .atMost(Accounting.PATIENCE)
                    .pollInterval(Duration.ofSeconds(1))
                    .during(Duration.ofSeconds(4))
                    .until(() -> {
                        for (String runId : runIds) {
                            if (!stepsSettled(pipeline, runId)) {
                                return false;
                            }
                        }
                        return true;
                    });
        } catch (ConditionTimeoutException e) {
            StringBuilder where = new StringBuilder(what + ": not reached within " + Accounting.PATIENCE + "\n");
            for (String runId : runIds) {
                JsonNode run = run(pipeline, runId);
                where.append(runId)
                        .append(": ")
                        .append(run)
                        .append("; batches of its recipe on the topic: ")
                        .append(pipeline.batches(run.path("recipeId").asText()).size())
                        .append('\n');
            }
            throw new AssertionError(where + pipeline.logTails(40), e);
        }
    }

    /**
     * Every batch of the run's recipe on the topic is trained, as far as whole optimiser steps go (2 micro-batches
     * a step), and tokenize has nothing buffered: the batch count stays put while the run catches up.
     */
    static boolean stepsSettled(Pipeline pipeline, String runId) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri("/runs/" + runId))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            return false; // the run's row appears when the trainer's worker for the recipe starts
        }
        JsonNode run = run(pipeline, runId);
        long batches = pipeline.batches(run.path("recipeId").asText()).size();
        return batches > 0
                && run.path("state").asText().equals("RUNNING")
                && run.path("step").asLong() == batches / 2
                && pipeline.batches(run.path("recipeId").asText()).size() == batches;
    }

    private static List<Double> losses(Pipeline pipeline, String runId) throws Exception {
        List<Double> losses = new ArrayList<>();
        get(pipeline, "/runs/" + runId + "/steps")
                .forEach(step -> losses.add(step.path("loss").asDouble()));
        return losses;
    }

    static JsonNode run(Pipeline pipeline, String runId) throws Exception {
        return get(pipeline, "/runs/" + runId);
    }

    static JsonNode get(Pipeline pipeline, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri(path))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
