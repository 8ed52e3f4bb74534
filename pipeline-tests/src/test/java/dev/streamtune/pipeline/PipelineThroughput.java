package dev.streamtune.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Event;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.recipe.RecipeFormats;
import dev.streamtune.format.template.TemplateException;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.LoopbackPorts;
import dev.streamtune.localstack.PostgresServer;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.RecipeTopic;
import dev.streamtune.pipeline.BenchmarkCorpus.RawMessage;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.testing.RecipeYaml;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * ingest -> format -> tokenize on N conversations made from the real ShareGPT and Alpaca data
 * ({@link BenchmarkCorpus}), twice: the same stage code chained in this JVM without Kafka, then through a real
 * broker, with the three services' production jars as child JVMs against a fresh broker and PostgreSQL. Prints
 * conversations/s and tokens/s (the real tokens of the training batches) for both, their ratio, and the lag of each
 * stage's consumer group sampled every second. A command, not a test: {@code bench/pipeline-throughput.sh}.
 *
 * <pre>PipelineThroughput [CONVERSATIONS] [SHARED_DIR]</pre>
 *
 * <p>Both sides are measured warm: each first carries a warm-up corpus three times the size (other content, in
 * datasets of its own, for a recipe of its own), and the measured run starts once the JIT compilers of all JVMs are
 * idle, so that the figures compare the work rather than the compilers of five JVMs sharing the machine; the cold
 * figures are printed too. The in-process chain is timed {@value #IN_PROCESS_PASSES} times and its best kept, by
 * the CPU time of its thread ({@link Run}).
 *
 * <p>Through Kafka the clock runs from the first conversation produced to {@code conversations-raw} until every
 * conversation is on {@code conversations}, every example on {@code examples}, every evaluation example on
 * {@code eval-examples} and every training example in a batch on {@code batches}; how many of each there must be is
 * what the in-process chain made of the same input. The recipe is in place, and every stage's consumer group has
 * its partitions, before the clock starts: a recipe is published before its data flows. A stage's lag is its
 * group's committed offsets against the end of the topic it reads; tokenize-service commits past an example only
 * once the batch carrying it is acknowledged, so its lag includes what its mixing window and open rows hold.
 * {@code -Dwarm-up=N} sets the size of the warm-up corpus.
 *
 * <p>{@code SERVICE_JAVA_OPTIONS} are given to the services' JVMs (as {@code JAVA_TOOL_OPTIONS}). With
 * {@code JFR_DIR} set, each service records a JFR profile of the measured run there ({@link FlightRecordings}).
 */
public final class PipelineThroughput {

    private static final Duration READY_DEADLINE = Duration.ofMinutes(2);
    private static final Duration RUN_DEADLINE = Duration.ofMinutes(15);
    /** The in-process chain is timed this many times and its best time kept, since other work may slow one. */
    private static final int IN_PROCESS_PASSES = 3;
    /** The topics whose records the watcher counts. */
    private static final List<String> OUTPUTS = List.of(Topics.CONVERSATIONS, Topics.EXAMPLES, Topics.EVAL_EXAMPLES);

    private static final Duration WATCH_EVERY = Duration.ofMillis(100);
    private static final Duration LAG_PRINTS = Duration.ofSeconds(1);
    /** JIT compiling, all JVMs together, per second below which the compilers count as idle. */
    private static final Duration COMPILERS_IDLE = Duration.ofMillis(20);

    private PipelineThroughput() {}

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0].replace("_", "").replace(",", "")) : 100_000;
        Path shared = Path.of(args.length > 1 ? args[1] : "../shared")
                .toAbsolutePath()
                .normalize();
        Path root = Path.of(System.getProperty("streamtune.root", "."))
                .toAbsolutePath()
                .normalize();
        String jfr = System.getenv("JFR_DIR");

        BenchmarkCorpus corpus = BenchmarkCorpus.measured(shared, count);
        BenchmarkCorpus warmUp = BenchmarkCorpus.warmUp(shared, Integer.getInteger("warm-up", 3 * count));
        long run = System.currentTimeMillis();
        Recipe recipe = recipe("pipeline-throughput-" + run, corpus);
        Recipe warmUpRecipe = recipe("pipeline-throughput-warm-up-" + run, warmUp);
        System.out.println("machine: " + Machine.describe());
        System.out.printf(
                Locale.ROOT,
                "corpus: %,d conversations (%,d bytes) from %d real ShareGPT conversations and"
                        + " %d Alpaca records, repeated with distinct content; a warm-up corpus of %,d%n",
                corpus.size(),
                corpus.bytes(),
                corpus.sharegpt(),
                corpus.alpaca(),
                warmUp.size());
        System.out.println("recipe: ChatML, r50k_base (GPT-2) + ChatML tokens, train on assistant turns, max_seq_length"
                + " 1024 with truncation, packing, 8 rows per batch, ShareGPT 0.8 / Alpaca 0.2 mixed");

        Run inProcessCold = inProcess(warmUp, warmUpRecipe, root, false);
        report("in-process, cold (the warm-up corpus)", warmUp, inProcessCold);
        Run inProcess = inProcess(corpus, recipe, root, false);
        for (int pass = 2; pass <= IN_PROCESS_PASSES; pass++) {
            Run again = inProcess(corpus, recipe, root, false);
            inProcess = again.timed() < inProcess.timed() ? again : inProcess;
        }
        report("in-process, stage code chained on one thread (best of " + IN_PROCESS_PASSES + ")", corpus, inProcess);
        Run inProcessJson = inProcess(corpus, recipe, root, true);
        report("in-process, each event also written and read as JSON (what the topics carry)", corpus, inProcessJson);

        Run kafka = throughKafka(
                new Workload(warmUp, warmUpRecipe, inProcessCold.tally()),
                new Workload(corpus, recipe, inProcess.tally()),
                root,
                jfr == null ? null : Path.of(jfr));
        report("through Kafka (3 services, broker, PostgreSQL)", corpus, kafka);
        System.out.printf(
                Locale.ROOT,
                "through Kafka / in-process: %.2fx conversations/s, %.2fx tokens/s" + " (goal: 0.5x)%n",
                inProcess.timed() / kafka.timed(),
                (kafka.tally().tokens / kafka.timed()) / (inProcess.tally().tokens / inProcess.timed()));
    }

    /** The benchmark's recipe: what a user fine-tuning a small GPT-2 on both datasets would write. */
    static Recipe recipe(String name, BenchmarkCorpus corpus) {
        return RecipeYaml.named(name)
                .model("tokenizer", "r50k_base")
                .data(
                        "datasets",
                        List.of(weighted(corpus.sharegptDataset(), 0.8), weighted(corpus.alpacaDataset(), 0.2)))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", 1024)
                .data("truncation", "truncate")
                .data("packing", true)
                .training("finetuning_type", "lora")
                .training("per_device_train_batch_size", 8)
                .lora("r", 8)
                .parse(name + ".yaml");
    }

    private static Map<String, Object> weighted(String dataset, double weight) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", dataset);
        entry.put("weight", weight);
        return entry;
    }

    /** A corpus, the recipe that trains on it, and what the in-process chain made of them. */
    record Workload(BenchmarkCorpus corpus, Recipe recipe, Tally expected) {}

    /** What a run made of the corpus, counted where each thing ends up. */
    static final class Tally {
        long conversations;
        long examples;
        long evalExamples;
        long batches;
        long batchedExamples;
        long tokens;

        void batch(TrainBatch batch) {
            batches++;
            batchedExamples += batch.exampleKeys().size();
            tokens += batch.totalTokens();
        }
    }

    /**
     * How long a run took and what it made. A run in this JVM's one thread also has that thread's CPU time: where
     * other work on the machine slows the run, its CPU time still says how long it takes on a CPU of its own, so the
     * in-process figures are taken from it (and the comparison does not flatter the Kafka side).
     */
    record Run(double seconds, double cpuSeconds, Tally tally) {

        Run(double seconds, Tally tally) {
            this(seconds, Double.NaN, tally);
        }

        /** The time the figures are taken from. */
        double timed() {
            return Double.isNaN(cpuSeconds) ? seconds : cpuSeconds;
        }
    }

    /**
     * The stage code chained: ingest's door without its database, format's renderer, tokenize's worker without its
     * commit watermark, one conversation after the other. With {@code json}, each event is also written and read
     * back as the topic between two stages would carry it.
     */
    static Run inProcess(BenchmarkCorpus corpus, Recipe recipe, Path root, boolean json) {
        Tally tally = new Tally();
        RecipeFormat format = new RecipeFormats(root, "26 Jul 2024").of(recipe);
        EventSerializer<Event> writer = new EventSerializer<>();
        ConversationDeserializer conversations = new ConversationDeserializer();
        FormattedExampleDeserializer examples = new FormattedExampleDeserializer();
        Consumer<TrainBatch> batches = json
                ? batch -> tally.batch(new TrainBatchDeserializer()
                        .deserialize(Topics.BATCHES, writer.serialize(Topics.BATCHES, batch)))
                : tally::batch;
        InProcessTokenize tokenize = new InProcessTokenize(recipe, root, batches);
        TopicPartition examplesPartition = new TopicPartition(Topics.EXAMPLES, 0);
        InProcessIngest ingest = new InProcessIngest(published -> {
            Conversation conversation = json
                    ? conversations.deserialize(Topics.CONVERSATIONS, writer.serialize(Topics.CONVERSATIONS, published))
                    : published;
            tally.conversations++;
            if (!format.reads(conversation)) {
                return;
            }
            FormattedExample example;
            try {
                example = format.renderer().render(conversation);
            } catch (TemplateException | IllegalArgumentException e) {
                return; // a dead letter in the service
            }
            if (json) {
                example = examples.deserialize(Topics.EXAMPLES, writer.serialize(Topics.EXAMPLES, example));
            }
            tally.examples++;
            tokenize.accept(example, new InputOffset(examplesPartition, tally.examples));
        });
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = System.nanoTime();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long offset = 0;
        for (RawMessage message : corpus.messages()) {
            ingest.accept(message.dataset(), message.value(), SourceRef.inTopic(Topics.CONVERSATIONS_RAW, 0, offset++));
        }
        ingest.finish();
        tokenize.finish();
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        tally.evalExamples = tokenize.evalExamples();
        return new Run(seconds, cpuSeconds, tally);
    }

    /**
     * The services as they run in production, against a broker and a database of their own: the warm-up workload,
     * then the measured one, each until the topics hold what the in-process chain made of it.
     */
    static Run throughKafka(Workload warmUp, Workload measured, Path root, Path jfr) throws Exception {
        Path logs = root.resolve("pipeline-tests/target/pipeline-throughput");
        Files.createDirectories(logs);
        try (KafkaBroker broker = KafkaBroker.startTemporary();
                PostgresServer postgres = PostgresServer.startTemporary()) {
            String kafka = broker.bootstrapServers();
            TopicProvisioner.ensure(kafka, Topics.ALL);
            DatabaseEndpoint database = postgres.endpoint();
            try (ServiceProcess ingest = service(
                            root,
                            "ingest-service",
                            logs,
                            jfr,
                            Map.of(
                                    "KAFKA_BOOTSTRAP_SERVERS", kafka,
                                    "QUARKUS_DATASOURCE_JDBC_URL", database.jdbcUrl(),
                                    "QUARKUS_DATASOURCE_USERNAME", database.username(),
                                    "QUARKUS_DATASOURCE_PASSWORD", database.password()));
                    ServiceProcess format = service(
                            root,
                            "format-service",
                            logs,
                            jfr,
                            Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka, "FORMAT_MODEL_ROOT", root.toString()));
                    ServiceProcess tokenize = service(
                            root,
                            "tokenize-service",
                            logs,
                            jfr,
                            Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka, "TOKENIZE_MODEL_ROOT", root.toString()));
                    Admin admin =
                            Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
                StageLag warmUpLag = new StageLag(admin, warmUp.recipe().id());
                StageLag lag = new StageLag(admin, measured.recipe().id());
                long published = System.nanoTime();
                RecipeTopic.publish(kafka, measured.recipe());
                RecipeTopic.publish(kafka, warmUp.recipe());
                awaitAssigned(lag);
                awaitAssigned(warmUpLag);
                System.out.printf(
                        Locale.ROOT,
                        "services ready; recipes published and every stage's group assigned in" + " %.1f s%n",
                        (System.nanoTime() - published) / 1e9);

                List<ProcessHandle> services =
                        List.of(child("ingest-service"), child("format-service"), child("tokenize-service"));
                Run cold = pass(kafka, warmUp, warmUpLag, services, false);
                report("through Kafka, cold (the warm-up corpus)", warmUp.corpus(), cold);
                // The warm-up recipe's workers go, so that only the measured recipe's read the measured corpus; its
                // own workers have meanwhile passed over the warm-up records.
                RecipeTopic.delete(kafka, warmUp.recipe().id());
                awaitLeft(warmUpLag);
                awaitCaughtUp(lag);

                Map<String, ProcessHandle> jvms = Map.of(
                        "ingest-service",
                        child("ingest-service"),
                        "format-service",
                        child("format-service"),
                        "tokenize-service",
                        child("tokenize-service"));
                Map<String, ProcessHandle> processes = new HashMap<>(jvms);
                processes.put("broker", broker.processHandle());
                processes.put("postgres", CpuTime.postgres(postgres.port()));
                processes.put("benchmark", ProcessHandle.current());
                CpuTime cpu = CpuTime.of(processes);
                awaitCompilersIdle(cpu);
                FlightRecordings recordings = jfr == null ? null : FlightRecordings.start(jfr, jvms);
                Map<String, CpuTime.Used> cpuBefore = cpu.sample();
                Run run = pass(kafka, measured, lag, services, true);
                Map<String, CpuTime.Used> cpuAfter = cpu.sample();
                if (recordings != null) {
                    recordings.stop();
                }
                System.out.printf(
                        Locale.ROOT,
                        "CPU seconds while the clock ran (%d CPUs x %.1f s = %.1f): %s%n",
                        Machine.cpus(),
                        run.seconds(),
                        Machine.cpus() * run.seconds(),
                        CpuTime.describe(cpuBefore, cpuAfter));
                return run;
            }
        }
    }

    /**
     * Produces a workload's corpus to {@code conversations-raw} and waits until it has all been made into what it
     * must become (see {@link #watch}); then reads the recipe's batches, outside the clock, to count their examples
     * and tokens.
     */
    private static Run pass(
            String kafka, Workload workload, StageLag lag, List<ProcessHandle> services, boolean printLag)
            throws Exception {
        Map<String, Long> records = lag.snapshot(OUTPUTS).records();
        Tally before = new Tally();
        before.conversations = records.get(Topics.CONVERSATIONS);
        before.examples = records.get(Topics.EXAMPLES);
        before.evalExamples = records.get(Topics.EVAL_EXAMPLES);
        Map<TopicPartition, Long> batchesFrom = lag.endOffsets(Topics.BATCHES);

        long start = System.nanoTime();
        AtomicReference<Double> producedIn = new AtomicReference<>();
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        Thread producer = new Thread(
                () -> {
                    try {
                        produce(kafka, workload.corpus());
                        producedIn.set((System.nanoTime() - start) / 1e9);
                    } catch (Throwable e) {
                        producerFailure.set(e);
                    }
                },
                "conversations-raw-producer");
        producer.start();
        Tally tally = watch(workload, before, lag, services, start, producerFailure, printLag);
        double seconds = (System.nanoTime() - start) / 1e9;
        producer.join();
        System.out.printf(Locale.ROOT, "%sproduced in %.1f s%n", printLag ? "" : "warm-up: ", producedIn.get());

        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        try (KafkaConsumer<String, byte[]> reader =
                new KafkaConsumer<>(KafkaSettings.bootstrap(kafka).consumer(null, "pipeline-throughput-batches"))) {
            Map<TopicPartition, Long> until = lag.endOffsets(Topics.BATCHES);
            reader.assign(batchesFrom.keySet());
            batchesFrom.forEach(reader::seek);
            while (batchesFrom.keySet().stream().anyMatch(p -> reader.position(p) < until.get(p))) {
                for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(500))) {
                    if (workload.recipe().id().equals(record.key())) {
                        tally.batch(batches.deserialize(record.topic(), record.value()));
                    }
                }
            }
        }
        if (tally.batchedExamples != workload.expected().batchedExamples) {
            throw new IllegalStateException(String.format(
                    Locale.ROOT,
                    "the batches hold %,d training examples, the" + " in-process chain batched %,d",
                    tally.batchedExamples,
                    workload.expected().batchedExamples));
        }
        return new Run(seconds, tally);
    }

    private static ServiceProcess service(Path root, String module, Path logs, Path jfr, Map<String, String> settings)
            throws IOException, InterruptedException {
        Map<String, String> environment = new HashMap<>(settings);
        String options = System.getenv().getOrDefault("SERVICE_JAVA_OPTIONS", "");
        if (jfr != null) {
            // JFR running from the start: starting it later, for the measured run, would make the JIT compile much
            // of the service again in the middle of what is measured.
            options += " -XX:StartFlightRecording=settings=default";
        }
        if (!options.isBlank()) {
            // the services' JVMs only, not the broker's or this one
            environment.put("JAVA_TOOL_OPTIONS", options.trim());
        }
        return ServiceProcess.start(root, module, LoopbackPorts.free(), environment, logs);
    }

    /** The service's JVM: a child of this one, found by its jar. */
    static ProcessHandle child(String module) {
        return ProcessHandle.current()
                .children()
                .filter(p -> p.info().commandLine().orElse("").contains(module + "/target/quarkus-app"))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(module + " is not running"));
    }

    /** Waits until every stage's consumer group has all the partitions of the topic it reads. */
    static void awaitAssigned(StageLag lag) throws Exception {
        for (StageLag.Stage stage : lag.stages()) {
            await(stage.group() + " has the partitions of " + stage.topic(), () -> lag.assigned(stage));
        }
    }

    /** Waits until the recipe's groups have no members: its workers have stopped. */
    private static void awaitLeft(StageLag lag) throws Exception {
        for (StageLag.Stage stage : lag.stages()) {
            if (!stage.group().equals(StageLag.INGEST_GROUP)) {
                await(stage.group() + " has no members", () -> lag.members(stage) == 0);
            }
        }
    }

    /** Waits until every stage has committed the end of the topic it reads. */
    private static void awaitCaughtUp(StageLag lag) throws Exception {
        await("every stage caught up", () -> lag.sample().values().stream().allMatch(behind -> behind == 0));
    }

    /**
     * Waits until the JVMs' JIT compilers have nothing left to do: with five JVMs on a few CPUs, compilations queue
     * up during the warm-up and would otherwise run, and be measured, in the middle of the measured run.
     */
    private static void awaitCompilersIdle(CpuTime cpu) throws Exception {
        long start = System.nanoTime();
        Map<String, CpuTime.Used> before = cpu.sample();
        double compiling = Double.MAX_VALUE;
        while (compiling > COMPILERS_IDLE.toMillis() / 1e3 && System.nanoTime() - start < READY_DEADLINE.toNanos()) {
            Thread.sleep(1000); // compiler threads' CPU time, sampled each second, has no notification
            Map<String, CpuTime.Used> after = cpu.sample();
            compiling = CpuTime.compiling(before, after);
            before = after;
        }
        System.out.printf(Locale.ROOT, "JIT compilers idle after %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + READY_DEADLINE.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not so after " + READY_DEADLINE + ": " + what);
            }
            Thread.sleep(100); // polling the broker's view of the groups, which has no notification
        }
    }

    /** Every raw conversation to {@code conversations-raw} with its dataset header, acknowledged. */
    private static void produce(String kafka, BenchmarkCorpus corpus) throws Exception {
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(KafkaSettings.bootstrap(kafka).producer("pipeline-throughput"))) {
            for (RawMessage message : corpus.messages()) {
                ProducerRecord<String, byte[]> record =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, message.key(), message.value());
                record.headers().add(Topics.Headers.DATASET, message.dataset().getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
            producer.flush();
        }
    }

    /**
     * Samples the topics and the stages' lag every {@link #WATCH_EVERY}, printing the lag every second, until every
     * conversation is on {@code conversations}, every example on {@code examples}, every evaluation example on
     * {@code eval-examples}, and tokenize-service's group has committed the end of {@code examples}: the framework
     * commits past an example only once the batch carrying it is acknowledged, so then every training example is in
     * a batch on {@code batches}.
     */
    private static Tally watch(
            Workload workload,
            Tally before,
            StageLag lag,
            List<ProcessHandle> services,
            long start,
            AtomicReference<Throwable> producerFailure,
            boolean printLag)
            throws Exception {
        Tally expected = workload.expected();
        Tally tally = new Tally();
        Map<String, Double> finished = new LinkedHashMap<>();
        Map<String, Long> maxLag = new LinkedHashMap<>();
        long nextPrint = start;
        long deadline = start + RUN_DEADLINE.toNanos();
        while (true) {
            StageLag.Snapshot now = lag.snapshot(OUTPUTS);
            Map<String, Long> behind = now.lag();
            behind.forEach((stage, n) -> maxLag.merge(stage, n, Math::max));
            tally.conversations = now.records().get(Topics.CONVERSATIONS) - before.conversations;
            tally.examples = now.records().get(Topics.EXAMPLES) - before.examples;
            tally.evalExamples = now.records().get(Topics.EVAL_EXAMPLES) - before.evalExamples;
            long at = System.nanoTime();
            double elapsed = (at - start) / 1e9;
            if (tally.conversations >= expected.conversations) {
                finished.putIfAbsent("ingest", elapsed);
            }
            if (tally.examples >= expected.examples) {
                finished.putIfAbsent("format", elapsed);
            }
            boolean done = tally.conversations >= expected.conversations
                    && tally.examples >= expected.examples
                    && tally.evalExamples >= expected.evalExamples
                    && behind.get("tokenize") == 0;
            if (printLag && (done || at >= nextPrint)) {
                System.out.printf(
                        Locale.ROOT,
                        "%6.1f s  lag %s   on the topics: %,d conversations, %,d examples,"
                                + " %,d evaluation examples%n",
                        elapsed,
                        describe(behind),
                        tally.conversations,
                        tally.examples,
                        tally.evalExamples);
                nextPrint += LAG_PRINTS.toNanos();
            }
            if (done) {
                finished.put("tokenize", elapsed);
                System.out.println((printLag ? "" : "warm-up: ") + "each stage's output complete at: "
                        + finished.entrySet().stream()
                                .map(e -> String.format(Locale.ROOT, "%s %.1f s", e.getKey(), e.getValue()))
                                .collect(Collectors.joining(", "))
                        + "; max lag per stage: " + describe(maxLag));
                return tally;
            }
            if (producerFailure.get() != null) {
                throw new IllegalStateException("producing to conversations-raw failed", producerFailure.get());
            }
            if (services.stream().anyMatch(service -> !service.isAlive())) {
                throw new IllegalStateException("a service exited during the run; see its log in"
                        + " pipeline-tests/target/pipeline-throughput");
            }
            if (at > deadline) {
                throw new IllegalStateException(String.format(
                        Locale.ROOT,
                        "not done after %s: %,d of %,d"
                                + " conversations, %,d of %,d examples, %,d of %,d evaluation examples, lag %s; see the"
                                + " service logs in pipeline-tests/target/pipeline-throughput",
                        RUN_DEADLINE,
                        tally.conversations,
                        expected.conversations,
                        tally.examples,
                        expected.examples,
                        tally.evalExamples,
                        expected.evalExamples,
                        describe(behind)));
            }
            Thread.sleep(WATCH_EVERY.toMillis()); // sampling on a timer: the topics and groups notify nobody
        }
    }

    private static String describe(Map<String, Long> lagPerStage) {
        return lagPerStage.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%s %,7d", e.getKey(), e.getValue()))
                .collect(Collectors.joining("  "));
    }

    private static void report(String how, BenchmarkCorpus corpus, Run run) {
        Tally t = run.tally();
        String time = Double.isNaN(run.cpuSeconds())
                ? String.format(Locale.ROOT, "in %.2f s", run.seconds())
                : String.format(Locale.ROOT, "in %.2f s of CPU (%.2f s wall)", run.cpuSeconds(), run.seconds());
        System.out.printf(
                Locale.ROOT,
                "%s:%n  %,d conversations -> %,d published, %,d examples (%,d for evaluation),"
                        + " %,d training examples in %,d batches, %,d tokens, %s: %,.0f conversations/s,"
                        + " %,.0f tokens/s%n",
                how,
                corpus.size(),
                t.conversations,
                t.examples,
                t.evalExamples,
                t.batchedExamples,
                t.batches,
                t.tokens,
                time,
                corpus.size() / run.timed(),
                t.tokens / run.timed());
    }
}
