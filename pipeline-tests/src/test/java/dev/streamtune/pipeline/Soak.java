package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.Topics;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.PostgresServer;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.run.LocalServices;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.pipeline.BenchmarkCorpus.RawMessage;
import dev.streamtune.pipeline.SoakSampler.Sample;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.testing.RecipeYaml;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The soak: a long stream of conversations through all five services, as production jars against a broker and
 * PostgreSQL of their own, while a continuous LoRA run on stories260K trains on what arrives and eval-service scores
 * its checkpoints; every interval, each service's memory and each stage's progress ({@link SoakSampler}), and at the
 * end the first sample past the warm-up against the last ({@link SoakReport}) and each stage's books
 * ({@link SoakAccounting}). A benchmark that prints figures, not a test: {@code bench/soak.sh}.
 *
 * <pre>Soak [CONVERSATIONS] [SHARED_DIR]</pre>
 *
 * <p>The conversations are the real ShareGPT and Alpaca data of {@link BenchmarkCorpus}, made one at a time as they
 * are produced, so the stream's length costs this JVM nothing. The run ends once every conversation is produced,
 * ingest, format and tokenize have caught up, the trainer has trained every batch and eval-service has scored (or
 * failed) every checkpoint announced; or {@code soak.tail} after the data stages caught up, whatever the trainer and
 * the evaluator still have to do; or at {@code soak.max-duration} (none by default) since the first message produced,
 * however far the stream got. System properties: {@code soak.interval} (ISO-8601, {@code PT1M}),
 * {@code soak.warm-up} ({@code PT5M}), {@code soak.save-steps} (100), {@code soak.tail} ({@code PT10M}),
 * {@code soak.max-duration}.
 */
public final class Soak {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The eval set: small, so that scoring a checkpoint is quick beside training. */
    private static final int VALID_SIZE = 16;

    private Soak() {}

    public static void main(String[] args) throws Exception {
        long count = args.length > 0 ? Long.parseLong(args[0].replace("_", "").replace(",", "")) : 1_000_000;
        Path shared = Path.of(args.length > 1 ? args[1] : "../shared")
                .toAbsolutePath()
                .normalize();
        Path root = Path.of(System.getProperty("streamtune.root", "."))
                .toAbsolutePath()
                .normalize();
        Duration interval = Duration.parse(System.getProperty("soak.interval", "PT1M"));
        Duration warmUp = Duration.parse(System.getProperty("soak.warm-up", "PT5M"));
        Duration tail = Duration.parse(System.getProperty("soak.tail", "PT10M"));
        String longest = System.getProperty("soak.max-duration");
        Duration maxDuration = longest == null ? null : Duration.parse(longest);
        int saveSteps = Integer.getInteger("soak.save-steps", 100);
        Path models = shared.resolve("models");
        if (!Files.isRegularFile(models.resolve(RecipeYaml.STORIES260K))) {
            throw new IllegalArgumentException("the soak trains stories260K: " + models.resolve(RecipeYaml.STORIES260K)
                    + " is missing (SHARED_DIR is " + shared + ")");
        }
        String recipeId = "soak-" + System.currentTimeMillis();
        String yaml = recipe(recipeId, saveSteps).yaml();
        System.out.println("machine: " + Machine.describe());
        System.out.printf(
                Locale.ROOT,
                "stream: %,d conversations from the real ShareGPT and Alpaca data, repeated with distinct content;"
                        + " samples every %s, first-vs-last from %s%n",
                count,
                interval,
                warmUp);
        System.out.println("recipe:\n" + yaml);

        Path work = root.resolve("pipeline-tests/target/soak");
        try (KafkaBroker broker = KafkaBroker.startTemporary();
                PostgresServer postgres = PostgresServer.startTemporary()) {
            String kafka = broker.bootstrapServers();
            TopicProvisioner.ensure(kafka, Topics.ALL);
            DatabaseEndpoint database = postgres.endpoint();
            // the stack of the end-to-end tests (Pipeline), with the trainer and the evaluator
            try (LocalServices services = LocalServices.stack(root, kafka, database)
                            .modelRoot(models)
                            .logs(work)
                            .checkpoints(work.resolve("checkpoints"), true)
                            .set(LocalServices.FORMAT, "FORMAT_MODEL_ROOT", root.toString())
                            .set(LocalServices.TOKENIZE, "TOKENIZE_FLUSH_AFTER", "PT1S")
                            .set(LocalServices.EVAL, "EVAL_SETTLE_AFTER", "PT5S")
                            .start();
                    Admin admin =
                            Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
                String runId = post(services.trainer(), yaml);
                StageLag lag = new StageLag(admin, recipeId);
                PipelineThroughput.awaitAssigned(lag);
                System.out.println("services ready, run " + runId + " of recipe " + recipeId + "; logs in " + work);
                SoakSampler sampler = new SoakSampler(services, lag, runId, recipeId);
                List<Sample> samples = stream(kafka, shared, count, services, sampler, interval, tail, maxDuration);
                SoakReport.print(samples, warmUp);
                SoakAccounting.print(
                        settledBooks(sampler, lag, recipeId, count),
                        samples.get(samples.size() - 1).training());
            }
        }
        System.exit(0); // the broker's and the clients' threads would keep the JVM up
    }

    /**
     * A continuous LoRA run on stories260K over both datasets, checkpointing every {@code saveSteps} steps; rows of
     * 128 tokens, so that a step is short beside the data stages' work.
     */
    static RecipeYaml recipe(String id, int saveSteps) {
        return RecipeYaml.withId(id)
                .stories260K()
                .data(
                        "datasets",
                        List.of(weighted(BenchmarkCorpus.SHAREGPT, 0.8), weighted(BenchmarkCorpus.ALPACA, 0.2)))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", 128)
                .data("truncation", "truncate")
                .data("packing", true)
                .data("valid_size", VALID_SIZE)
                .training("finetuning_type", "lora")
                .training("continuous", true)
                .training("learning_rate", "5e-3")
                .training("lr_scheduler_type", "constant")
                .training("max_steps", saveSteps)
                .training("save_steps", saveSteps)
                .training("per_device_train_batch_size", 8)
                .training("seed", 11)
                .lora("r", 4)
                .lora("lora_alpha", 8)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .generation("num_samples", 2)
                .generation("max_new_tokens", 16);
    }

    private static Map<String, Object> weighted(String dataset, double weight) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", dataset);
        entry.put("weight", weight);
        return entry;
    }

    /** Posts the recipe to the trainer, which publishes it to every stage; its run's id. */
    private static String post(ServiceProcess trainer, String yaml) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(trainer.uri("/recipes"))
                                .header("Content-Type", "application/yaml")
                                .POST(HttpRequest.BodyPublishers.ofString(yaml))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 202) {
            throw new IllegalStateException(
                    "the trainer refused the recipe: " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body()).path("runId").asText();
    }

    /** Produces the stream on a thread of its own and samples every interval until the run is over. */
    private static List<Sample> stream(
            String kafka,
            Path shared,
            long count,
            LocalServices services,
            SoakSampler sampler,
            Duration interval,
            Duration tail,
            Duration maxDuration)
            throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong produced = new AtomicLong();
        long start = System.nanoTime();
        Thread producer = new Thread(
                () -> {
                    try {
                        produce(kafka, BenchmarkCorpus.stream(shared, count), failure, produced);
                        System.out.printf(
                                Locale.ROOT,
                                "%,d conversations produced in %.0f s%n",
                                produced.get(),
                                (System.nanoTime() - start) / 1e9);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                },
                "conversations-raw-producer");
        producer.start();
        List<Sample> samples = new ArrayList<>();
        long next = start + interval.toNanos();
        Long caughtUp = null;
        while (true) {
            Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000)); // sampling on a clock, by design
            next += interval.toNanos();
            Sample sample = sampler.sample((System.nanoTime() - start) / 1e9);
            SoakSampler.print(sample);
            samples.add(sample);
            if (failure.get() != null) {
                throw new IllegalStateException("producing to conversations-raw failed", failure.get());
            }
            for (ServiceProcess service : services.running()) {
                if (service.exitStatus() != null) {
                    throw new IllegalStateException(service.name() + " exited with status " + service.exitStatus()
                            + "; its log: " + service.log());
                }
            }
            boolean dataDone =
                    !producer.isAlive() && sample.lag().values().stream().allMatch(behind -> behind == 0);
            if (dataDone
                    && sample.training().behind() == 0
                    && sample.scoring().scored() > 0
                    && sample.scoring().waiting() == 0) {
                System.out.println("every batch trained and every checkpoint announced scored");
                return samples;
            }
            if (maxDuration != null && System.nanoTime() - start > maxDuration.toNanos()) {
                System.out.println("stopping at soak.max-duration, " + maxDuration + ", the stream unfinished");
                return samples;
            }
            if (dataDone) {
                caughtUp = caughtUp == null ? System.nanoTime() : caughtUp;
                if (System.nanoTime() - caughtUp > tail.toNanos()) {
                    System.out.println("stopping " + tail + " after the data stages caught up, the trainer or the"
                            + " evaluator still behind");
                    return samples;
                }
            }
        }
    }

    /** Every message to conversations-raw with its dataset header; the first failed send fails the stream. */
    private static void produce(
            String kafka, Iterator<RawMessage> messages, AtomicReference<Throwable> failure, AtomicLong produced) {
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(KafkaSettings.bootstrap(kafka).producer("soak"))) {
            while (messages.hasNext() && failure.get() == null) {
                RawMessage message = messages.next();
                ProducerRecord<String, byte[]> record =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, message.key(), message.value());
                record.headers().add(Topics.Headers.DATASET, message.dataset().getBytes(StandardCharsets.UTF_8));
                producer.send(record, (metadata, error) -> {
                    if (error != null) {
                        failure.compareAndSet(null, error);
                    }
                });
                produced.incrementAndGet();
            }
            producer.flush();
        }
    }

    /**
     * The stages' books once their counters have caught up with the topics: tokenize counts what Kafka has
     * acknowledged, so a counter may trail its topic by a moment. Returned as they stand after a minute otherwise.
     */
    private static List<SoakAccounting.Stage> settledBooks(
            SoakSampler sampler, StageLag lag, String recipeId, long count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        List<SoakAccounting.Stage> books = SoakAccounting.read(sampler, lag, recipeId, count);
        while (!SoakAccounting.balanced(books) && System.nanoTime() < deadline) {
            Thread.sleep(1000); // the counters notify nobody
            books = SoakAccounting.read(sampler, lag, recipeId, count);
        }
        return books;
    }
}
