package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.LoopbackPorts;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.Producers;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.TrainingSession;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The trainer's benchmarks (commands, not tests; figures in docs/PERFORMANCE.md), against a real broker and
 * PostgreSQL started here and trainer-service's production jar:
 *
 * <ul>
 *   <li>{@code throughput [batches] [full|lora]}: tokens/s of a run consuming real {@code batches} records against the
 *       trainer's own training loop on the same batches in this JVM, on TrainStepBenchmark's config (a Llama built
 *       from scratch: vocab 512, hidden 256, 4 layers, 8 heads, intermediate 688; 8 x 256 tokens a batch);</li>
 *   <li>{@code resume}: restart-to-first-step of a killed trainer (SIGKILL, start again, first new optimiser step)
 *       for a run that had consumed 10 batches and one that had consumed 1,000 (stories260K, LoRA).</li>
 * </ul>
 */
public final class TrainerBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private TrainerBenchmark() {}

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "throughput";
        Path models = SharedData.dir().resolve("models");
        System.out.println("machine: " + Machine.describe());
        String kafka = Infrastructure.kafkaBootstrapServers();
        DatabaseEndpoint database = Infrastructure.database();
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path logs = Pipeline.ROOT.resolve("pipeline-tests/target/bench-trainer-" + run);
        try (ServiceProcess trainer = ServiceProcess.start(
                Pipeline.ROOT,
                "trainer-service",
                LoopbackPorts.free(),
                Map.of(
                        "KAFKA_BOOTSTRAP_SERVERS", kafka,
                        "QUARKUS_DATASOURCE_JDBC_URL", database.jdbcUrl(),
                        "QUARKUS_DATASOURCE_USERNAME", database.username(),
                        "QUARKUS_DATASOURCE_PASSWORD", database.password(),
                        "TRAINER_MODEL_ROOT", models.toString(),
                        "TRAINER_CHECKPOINT_ROOT", logs.resolve("checkpoints").toString(),
                        "TRAINER_CHECKPOINT_WHEN_IDLE", "PT1H"),
                logs)) {
            if (mode.equals("resume")) {
                resume(trainer, kafka, models, run);
            } else {
                throughput(
                        trainer,
                        kafka,
                        models,
                        run,
                        args.length > 1 ? Integer.parseInt(args[1]) : 30,
                        args.length > 2 ? args[2] : "full");
            }
        }
        System.exit(0);
    }

    private static void throughput(
            ServiceProcess trainer, String kafka, Path models, String run, int count, String method) throws Exception {
        String recipeId = "bench-" + method + "-" + run;
        RecipeYaml recipe = RecipeYaml.withId(recipeId)
                .model("architecture", "llama")
                .model("tokenizer", "stories260K")
                .model("hidden_size", 256)
                .model("intermediate_size", 688)
                .model("num_hidden_layers", 4)
                .model("num_attention_heads", 8)
                .model("max_position_embeddings", 256)
                .training("learning_rate", "1e-3")
                .training("lr_scheduler_type", "constant")
                .training("max_steps", count)
                .training("save_steps", count)
                .training("seed", 1);
        String yaml = (method.equals("lora")
                        ? recipe.lora("r", 8).lora("lora_alpha", 16).lora("target_modules", List.of("q_proj", "v_proj"))
                        : recipe.training("finetuning_type", "full"))
                .yaml();
        List<TrainBatch> batches = randomBatches(recipeId, count, 8, 256, 512);
        int warmup = 3;

        TrainingPlan plan =
                new TrainingPlans(models).of(RecipeParser.parse(yaml, "bench").recipe());
        long tokens = 0;
        long started = 0;
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            for (int i = 0; i < batches.size(); i++) {
                if (i == warmup) {
                    started = System.nanoTime();
                }
                session.train(BatchTensors.of(batches.get(i), 512, 256));
                if (i >= warmup) {
                    tokens += batches.get(i).totalTokens();
                }
            }
        }
        double inProcess = tokens / ((System.nanoTime() - started) / 1e9);

        publish(kafka, batches);
        String runId = post(trainer, yaml);
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (!"FINISHED".equals(get(trainer, "/runs/" + runId).path("state").asText())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("run " + runId + " did not finish; see " + trainer.log());
            }
            // polling the run's state while it trains, seldom: each GET runs on the service's threads, beside the
            // step it measures (what frequent polling cost is in docs/PERFORMANCE.md)
            Thread.sleep(2000);
        }
        JsonNode steps = get(trainer, "/runs/" + runId + "/steps");
        Instant from = Instant.parse(steps.get(warmup - 1).path("at").asText());
        Instant to = Instant.parse(steps.get(steps.size() - 1).path("at").asText());
        double wall = Duration.between(from, to).toNanos() / 1e9;
        double throughKafka = tokens / wall;
        double computing = 0;
        for (int i = warmup; i < steps.size(); i++) {
            computing += steps.get(i).path("seconds").asDouble();
        }
        System.out.printf(
                Locale.ROOT,
                "trainer %-4s in-process %8.0f tokens/s  through Kafka %8.0f tokens/s  ratio %.2fx"
                        + "  (service: %.0f ms a step between steps, %.0f ms of it in the step; in-process %.0f ms;"
                        + " %d batches of 8 x 256, %d warmup, %s)%n",
                method,
                inProcess,
                throughKafka,
                throughKafka / inProcess,
                1000 * wall / (steps.size() - warmup),
                1000 * computing / (steps.size() - warmup),
                1000.0 * tokens / inProcess / (steps.size() - warmup),
                count,
                warmup,
                Compute.describe());
    }

    /**
     * Two runs: one that had consumed 10 batches, one 1,000, each checkpointed where it stands; the trainer is
     * killed, one more batch is given to one run, and the time from starting the trainer again to that run's next
     * optimiser step is measured; then the same for the other run.
     */
    private static void resume(ServiceProcess trainer, String kafka, Path models, String run) throws Exception {
        Map<Integer, String> runs = new LinkedHashMap<>();
        for (int consumed : List.of(10, 1000)) {
            String recipeId = "resume-" + consumed + "-" + run;
            String yaml = RecipeYaml.withId(recipeId)
                    .stories260K()
                    .training("learning_rate", "1e-3")
                    .training("lr_scheduler_type", "constant")
                    .training("save_steps", consumed)
                    .training("seed", 1)
                    .lora("r", 4)
                    .lora("target_modules", List.of("q_proj", "v_proj"))
                    .yaml();
            publish(kafka, randomBatches(recipeId, consumed, 2, 64, 512));
            String runId = post(trainer, yaml);
            runs.put(consumed, runId);
            long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
            while (!checkpointed(get(trainer, "/runs/" + runId + "/checkpoints"), consumed)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("run " + runId + " wrote no checkpoint; see " + trainer.log());
                }
                Thread.sleep(200); // polling until the run has checkpointed its batches
            }
        }
        for (Map.Entry<Integer, String> entry : runs.entrySet()) {
            trainer.kill();
            String recipeId = entry.getValue().substring(0, entry.getValue().lastIndexOf('-')); // run id: recipe-hash
            publish(kafka, randomBatches(recipeId, 1, 2, 64, 512));
            long restarted = System.nanoTime();
            Instant restartedAt = Instant.now();
            trainer.restart();
            double ready = (System.nanoTime() - restarted) / 1e9;
            long target = entry.getKey() + 1;
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            JsonNode last;
            while (true) {
                JsonNode steps = get(trainer, "/runs/" + entry.getValue() + "/steps");
                last = !steps.isArray() || steps.size() == 0 ? null : steps.get(steps.size() - 1);
                if (last != null && last.path("step").asLong() >= target) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no step " + target + " after the restart; see " + trainer.log());
                }
                Thread.sleep(50); // polling for the first step after the restart
            }
            double firstStep =
                    Duration.between(restartedAt, Instant.parse(last.path("at").asText()))
                                    .toNanos()
                            / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "resume after %4d batches consumed: restart to ready %.1f s, restart to first" + " step %.1f s%n",
                    entry.getKey(),
                    ready,
                    firstStep);
        }
    }

    /** Whether the run's checkpoints (an array; an error answer while the run is not yet created is an object) reach {@code step}. */
    private static boolean checkpointed(JsonNode checkpoints, long step) {
        return checkpoints.isArray()
                && checkpoints.size() > 0
                && checkpoints.get(checkpoints.size() - 1).path("step").asLong() >= step;
    }

    /** Rows of random token ids, every position trained: throughput does not depend on the text. */
    static List<TrainBatch> randomBatches(String recipeId, int count, int rows, int time, int vocab) {
        Random random = new Random(recipeId.hashCode());
        List<TrainBatch> batches = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            List<PackedSequence> sequences = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                int[] ids = new int[time];
                int[] positions = new int[time];
                for (int t = 0; t < time; t++) {
                    ids[t] = random.nextInt(vocab);
                    positions[t] = t;
                }
                int[] labels = ids.clone();
                labels[0] = PackedSequence.IGNORE_INDEX;
                sequences.add(new PackedSequence(
                        TokenIds.of(ids), TokenIds.of(labels), TokenIds.of(positions), List.of(0), time, time - 1));
            }
            batches.add(new TrainBatch(
                    TrainBatch.SCHEMA_VERSION,
                    recipeId,
                    b,
                    time,
                    sequences,
                    (long) rows * (time - 1),
                    (long) rows * time,
                    List.of(recipeId + ":b" + b),
                    Map.of(),
                    Instant.now()));
        }
        return batches;
    }

    private static void publish(String kafka, List<TrainBatch> batches) throws Exception {
        EventSerializer<TrainBatch> serializer = new EventSerializer<>();
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(kafka)) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (TrainBatch batch : batches) {
                acks.add(producer.send(new ProducerRecord<>(
                        Topics.BATCHES, batch.recipeId(), serializer.serialize(Topics.BATCHES, batch))));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
    }

    private static String post(ServiceProcess trainer, String yaml) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(trainer.uri("/recipes"))
                        .header("Content-Type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(yaml))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 202) {
            throw new IllegalStateException("recipe refused: " + response.body());
        }
        return JSON.readTree(response.body()).path("runId").asText();
    }

    private static JsonNode get(ServiceProcess trainer, String path) throws Exception {
        return JSON.readTree(HTTP.send(
                        HttpRequest.newBuilder(trainer.uri(path))
                                .timeout(Duration.ofSeconds(30))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body());
    }
}
