package dev.streamtune.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.run.LocalServices;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.testing.RecipeYaml;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The data-plane services as they run in production (their quarkus-app jars as child JVMs), against one broker and
 * database, with what the tests need to feed them and to read what they produced: ingest, format and tokenize, and
 * the trainer when a test trains.
 */
final class Pipeline implements AutoCloseable {

    /** The recipe's row length: short, so that some conversations need two or three windows. */
    static final int MAX_SEQ_LENGTH = 64;

    static final Path ROOT = Path.of(System.getProperty("streamtune.root", ".."))
            .toAbsolutePath()
            .normalize();

    /** The cluster's bootstrap servers. */
    final String kafka;
    /** How this JVM's clients and every service reach the cluster (its TLS and SASL settings too). */
    final KafkaSettings kafkaSettings;

    final ServiceProcess ingest;
    final ServiceProcess format;
    final ServiceProcess tokenize;
    /** Null unless the pipeline was started with the trainer. */
    final ServiceProcess trainer;
    /** Null unless the pipeline was started with the trainer, whose checkpoints it scores. */
    final ServiceProcess eval;

    private final TopicReader topics;

    private Pipeline(
            KafkaSettings kafka,
            ServiceProcess ingest,
            ServiceProcess format,
            ServiceProcess tokenize,
            ServiceProcess trainer,
            ServiceProcess eval) {
        this.kafka = kafka.bootstrapServers();
        this.kafkaSettings = kafka;
        this.ingest = ingest;
        this.format = format;
        this.tokenize = tokenize;
        this.trainer = trainer;
        this.eval = eval;
        this.topics = new TopicReader(kafka, Duration.ofMinutes(2));
    }

    static Pipeline start(String kafka, DatabaseEndpoint database, String logName) throws Exception {
        return start(kafka, database, logName, ROOT, null);
    }

    /**
     * All five services, the trainer and the evaluator included: models and tokenizers are read under
     * {@code modelRoot}, and {@code trainerEnvironment} adds to the trainer's settings; its
     * {@code TRAINER_CHECKPOINT_ROOT} (required) is the volume the evaluator reads too. The stack is
     * {@code ./run-local}'s ({@link LocalServices#stack}), with the tests' shorter waits.
     */
    static Pipeline start(
            String kafka,
            DatabaseEndpoint database,
            String logName,
            Path modelRoot,
            Map<String, String> trainerEnvironment)
            throws Exception {
        return start(KafkaSettings.bootstrap(kafka), database, logName, modelRoot, trainerEnvironment);
    }

    /**
     * As {@link #start(String, DatabaseEndpoint, String, Path, Map)}, on a cluster reached with these settings (TLS,
     * SASL): every service is given them as its {@code KAFKA_*} variables, and this JVM's clients use them.
     */
    static Pipeline start(
            KafkaSettings kafka,
            DatabaseEndpoint database,
            String logName,
            Path modelRoot,
            Map<String, String> trainerEnvironment)
            throws Exception {
        LocalServices.Stack stack = LocalServices.stack(ROOT, kafka, database)
                .modelRoot(modelRoot)
                .logs(ROOT.resolve("pipeline-tests/target/" + logName))
                .set(LocalServices.FORMAT, "FORMAT_MODEL_ROOT", ROOT.toString())
                .set(LocalServices.TOKENIZE, "TOKENIZE_FLUSH_AFTER", "PT1S");
        if (trainerEnvironment == null) {
            stack.withoutTraining();
        } else {
            String checkpoints = trainerEnvironment.get("TRAINER_CHECKPOINT_ROOT");
            if (checkpoints == null) {
                throw new IllegalArgumentException("a pipeline with the trainer needs TRAINER_CHECKPOINT_ROOT");
            }
            stack.checkpoints(Path.of(checkpoints), false)
                    .set(LocalServices.EVAL, "EVAL_SETTLE_AFTER", "PT2S")
                    .set(LocalServices.EVAL, "EVAL_WATCH_LAG_INTERVAL", "PT1S");
            trainerEnvironment.forEach((variable, value) -> stack.set(LocalServices.TRAINER, variable, value));
        }
        LocalServices services = stack.start();
        return new Pipeline(
                kafka, services.ingest(), services.format(), services.tokenize(), services.trainer(), services.eval());
    }

    /**
     * A ChatML recipe on GPT-2's vocabulary for one dataset, rows of 64 tokens packed 8 to a batch, and examples
     * longer than a row split into windows of their own ({@code #n}).
     */
    static Recipe recipe(String name, String dataset) {
        return RecipeYaml.named(name)
                .model("tokenizer", "r50k_base")
                .data("datasets", List.of(Map.of("name", dataset)))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", MAX_SEQ_LENGTH)
                .data("truncation", "split")
                .data("packing", true)
                .training("finetuning_type", "lora")
                .training("per_device_train_batch_size", 8)
                .lora("r", 8)
                .parse(name + ".yaml");
    }

    /**
     * The n-th conversation of a run, in ShareGPT's layout: distinct content, and answers of varying length so that
     * some examples need two or three windows.
     */
    static byte[] conversation(String run, int n) {
        String answer = ("Answer " + n + " of run " + run + ":" + " and then some more words").repeat(1 + n % 5);
        return ("{\"conversations\": [{\"from\": \"human\", \"value\": \"Question " + n + " of run " + run + "?\"},"
                        + " {\"from\": \"gpt\", \"value\": \"" + answer + "\"}]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Produces conversations {@code from} (inclusive) to {@code to} (exclusive) to conversations-raw, acknowledged. */
    void produce(String run, String dataset, int from, int to) throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer()) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int n = from; n < to; n++) {
                ProducerRecord<String, byte[]> record =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, run + "-" + n, conversation(run, n));
                record.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                acks.add(producer.send(record));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
    }

    KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(kafkaSettings.producer("pipeline-tests"));
    }

    List<Conversation> conversations(String dataset) {
        ConversationDeserializer reader = new ConversationDeserializer();
        return topics.readAll(Topics.CONVERSATIONS).stream()
                .map(r -> reader.deserialize(r.topic(), r.value()))
                .filter(c -> c != null && dataset.equals(c.dataset()))
                .toList();
    }

    List<FormattedExample> examples(String recipeId) {
        FormattedExampleDeserializer reader = new FormattedExampleDeserializer();
        return topics.readAll(Topics.EXAMPLES).stream()
                .filter(r -> r.key() != null && r.key().startsWith(recipeId + ":"))
                .map(r -> reader.deserialize(r.topic(), r.value()))
                .toList();
    }

    List<TrainBatch> batches(String recipeId) {
        TrainBatchDeserializer reader = new TrainBatchDeserializer();
        return topics.readAll(Topics.BATCHES).stream()
                .filter(r -> recipeId.equals(r.key()))
                .map(r -> reader.deserialize(r.topic(), r.value()))
                .toList();
    }

    List<EvalExample> evalExamples(String recipeId) {
        EvalExampleDeserializer reader = new EvalExampleDeserializer();
        return topics.readAll(Topics.EVAL_EXAMPLES).stream()
                .filter(r -> r.key() != null && r.key().startsWith(recipeId + ":"))
                .map(r -> reader.deserialize(r.topic(), r.value()))
                .toList();
    }

    /** How many records a topic holds now, all partitions together. */
    long endOffsets(String topic) {
        return topics.endOffsets(topic).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    /** The last lines each service logged, for a failure's message: what was each doing when the wait ran out. */
    String logTails(int lines) {
        StringBuilder tails = new StringBuilder();
        for (ServiceProcess service : Stream.of(ingest, format, tokenize, trainer, eval)
                .filter(Objects::nonNull)
                .toList()) {
            List<String> log;
            try {
                log = Files.readAllLines(service.log(), StandardCharsets.UTF_8);
            } catch (IOException | UncheckedIOException e) {
                log = List.of("(cannot read " + service.log() + ": " + e.getMessage() + ")");
            }
            tails.append("--- ")
                    .append(service.log())
                    .append(", last ")
                    .append(lines)
                    .append(" lines\n");
            log.subList(Math.max(0, log.size() - lines), log.size())
                    .forEach(line -> tails.append(line).append('\n'));
        }
        return tails.toString();
    }

    @Override
    public void close() {
        if (eval != null) {
            eval.close();
        }
        if (trainer != null) {
            trainer.close();
        }
        tokenize.close();
        format.close();
        ingest.close();
    }
}
