package dev.streamtune.localstack.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.DatasetWeight;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.streams.KafkaSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The one-command local run: a real Kafka broker and PostgreSQL (or the ones named by KAFKA_BOOTSTRAP_SERVERS and
 * QUARKUS_DATASOURCE_JDBC_URL, the cluster reached with every other KAFKA_* variable: its TLS and SASL settings, given
 * to the services and to this run's own readers alike), the ingest, format and tokenize services as they run in production, a recipe published to
 * the recipes topic, files uploaded through ingest's REST door, and an account of every record at each stage: the
 * receipts, what arrived on the topics, the dataset registry, and the examples the recipe produced.
 *
 * <p>Usage: {@code LocalRun [--dataset NAME] [--split sizes:8/2] [--recipe FILE] [--model stories260K] [FILE...]};
 * without files it ingests {@code examples/data/mixed-sample.jsonl}, without a recipe it publishes
 * {@code examples/recipes/local-sample.yaml} (a recipe that names no datasets is pointed at the ingested one), or with
 * {@code --model stories260K} {@code examples/recipes/stories260K-lora.yaml}, the models read from
 * {@code ../shared/models}. {@code LocalRun up} keeps the stack running instead (see {@code ./run-local up}).
 */
public final class LocalRun {

    private LocalRun() {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("streamtune.root", "."))
                .toAbsolutePath()
                .normalize();
        if (args.length > 0 && args[0].equals("up")) {
            up(root);
            return;
        }
        String dataset = "local-" + System.currentTimeMillis();
        // two conversations held out for validation, so eval-service has something to score the run on
        String split = "sizes:8/2";
        Path recipeFile = null;
        Path modelRoot = root;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dataset" -> dataset = args[++i];
                case "--split" -> split = args[++i];
                case "--recipe" -> recipeFile = Path.of(args[++i]).toAbsolutePath();
                case "--model" -> {
                    String model = args[++i];
                    if (!model.equals("stories260K")) {
                        throw new IllegalArgumentException("--model " + model + ": the one real model run-local knows"
                                + " is stories260K (give any other with --recipe)");
                    }
                    modelRoot = sharedModels(root);
                    if (recipeFile == null) {
                        recipeFile = root.resolve("examples/recipes/stories260K-lora.yaml");
                    }
                }
                default -> files.add(Path.of(args[i]).toAbsolutePath());
            }
        }
        // the default: a model trained from scratch, then fine-tuned with LoRA, QLoRA and JoLA
        boolean fromScratch = recipeFile == null;
        if (recipeFile == null) {
            recipeFile = root.resolve("examples/recipes/local-sample.yaml");
        }
        if (files.isEmpty()) {
            files.add(root.resolve("examples/data/mixed-sample.jsonl"));
        }

        System.out.println("== Starting Kafka and PostgreSQL");
        KafkaSettings kafka = Infrastructure.kafkaSettings();
        DatabaseEndpoint database = Infrastructure.database();
        System.out.println("   Kafka      " + kafka.bootstrapServers());
        System.out.println("   PostgreSQL " + database.printableJdbcUrl());
        Recipe recipe;
        try {
            recipe = recipeFor(recipeFile, dataset);
        } catch (RecipeException e) {
            System.out.println("== The recipe cannot be read: " + e.getMessage());
            System.exit(1);
            return;
        }
        System.out.println("== Starting ingest-service, format-service, tokenize-service, trainer-service and"
                + " eval-service (logs: local-run/)");
        LocalServices started;
        try {
            started = LocalServices.start(root, modelRoot, kafka, database, false, null);
        } catch (IllegalStateException e) {
            System.out.println("== A service did not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        try (LocalServices services = started) {
            try {
                run(services, root, kafka, dataset, split, files, recipe, recipeFile, fromScratch);
            } catch (Exception e) {
                // one line per problem, each naming the log to read, rather than a stack trace
                System.out.println("== The run stopped: "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
                services.problems().forEach(problem -> System.out.println("   " + problem));
                System.exit(1);
            }
        }
    }

    private static void run(
            LocalServices services,
            Path root,
            KafkaSettings kafka,
            String dataset,
            String split,
            List<Path> files,
            Recipe recipe,
            Path recipeFile,
            boolean fromScratch)
            throws Exception {
        ServiceProcess ingest = services.ingest();
        ServiceProcess format = services.format();
        ServiceProcess tokenize = services.tokenize();
        ServiceProcess trainer = services.trainer();
        ServiceProcess eval = services.eval();
        System.out.println("   ingest-service ready at " + ingest.uri("/"));
        System.out.println("   format-service ready at " + format.uri("/"));
        System.out.println("   tokenize-service ready at " + tokenize.uri("/"));
        System.out.println("   trainer-service ready at " + trainer.uri("/"));
        System.out.println("   eval-service ready at " + eval.uri("/"));
        System.out.println("   watch the run at " + eval.uri("/watch/"));
        HttpClient http = HttpClient.newHttpClient();
        String runId = submit(http, trainer, recipe, recipeFile);
        long records = 0;
        long accounted = 0;
        for (Path file : files) {
            JsonNode receipt = upload(http, ingest, dataset, split, file);
            records += receipt.path("records").asLong();
            accounted += receipt.path("published").asLong()
                    + receipt.path("rejected").asLong()
                    + receipt.path("duplicates").asLong()
                    + receipt.path("unused").asLong();
            printReceipt(file, receipt);
        }
        printTopics(kafka, dataset);
        JsonNode registry = EventJson.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(ingest.uri("/datasets/" + dataset))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body());
        System.out.println("== Dataset registry (GET /datasets/" + dataset + ")");
        System.out.println("   totals " + registry.path("totals"));
        boolean ingestBalanced = records == accounted;
        System.out.println("== Ingest accounting: " + records + " records in = " + accounted
                + " published + rejected + duplicates + unused " + (ingestBalanced ? "(balanced)" : "(NOT BALANCED)"));
        boolean formatBalanced = printFormatting(http, format, kafka, recipe.id());
        boolean tokenizeBalanced = printTokenizing(http, tokenize, kafka, recipe.id());
        boolean trained = printTraining(http, trainer, kafka, recipe, runId);
        boolean evaluated = printEvaluation(
                http,
                eval,
                recipe.id(),
                get(http, trainer, "/runs/" + runId + "/checkpoints").size());
        boolean fineTuned = true;
        if (fromScratch && trained) {
            fineTuned = fineTuneTheModelTrainedFromScratch(http, services, kafka, root, recipe, runId);
        }
        System.out.println("== Artefacts");
        System.out.println("   checkpoints (PEFT adapter folders, JoLA files, Hugging Face folders): "
                + root.resolve("local-run/checkpoints"));
        System.out.println(
                "   a merged Hugging Face folder of any run: POST " + trainer.uri("/runs/RUN_ID/export?merge=true"));
        System.out.println("   logs: " + root.resolve("local-run"));
        if (!ingestBalanced || !formatBalanced || !tokenizeBalanced || !trained || !evaluated || !fineTuned) {
            System.exit(1);
        }
    }

    /** The recipe file, read; pointed at the ingested dataset when it names none. The trainer checks it. */
    private static Recipe recipeFor(Path file, String dataset) throws IOException {
        RecipeParser.Result result = RecipeParser.parse(Files.readString(file), file.toString());
        Recipe recipe = result.recipe();
        DataConfig data = recipe.dataConfig();
        if (data == null || data.datasets() == null || data.datasets().isEmpty()) {
            List<DatasetWeight> datasets = List.of(new DatasetWeight(dataset, 1.0));
            recipe = recipe.withDataConfig(
                    data == null
                            ? EventJson.mapper().convertValue(Map.of("datasets", datasets), DataConfig.class)
                            : data.withDatasets(datasets));
        }
        return recipe;
    }

    /**
     * Waits until the format service has read every conversation on the topic for the recipe (formatted, rejected
     * or skipped), then shows the examples and the stage's accounting.
     */
    private static boolean printFormatting(HttpClient http, ServiceProcess format, KafkaSettings kafka, String recipeId)
            throws IOException, InterruptedException {
        long onTopic = readAll(kafka, Topics.CONVERSATIONS).size();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        JsonNode status = null;
        long readSoFar = -1;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(format.uri("/recipes/" + recipeId)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                status = EventJson.mapper().readTree(response.body());
                if (read(status) != readSoFar) {
                    readSoFar = read(status);
                    System.out.printf(
                            "   format: %d of %d conversations read (lag %d)%n",
                            readSoFar, onTopic, status.path("lag").asLong());
                }
                if (read(status) >= onTopic) {
                    break;
                }
            }
            Thread.sleep(250); // polling an HTTP status until the worker has caught up
        }
        FormattedExampleDeserializer examples = new FormattedExampleDeserializer();
        List<FormattedExample> produced = readAll(kafka, Topics.EXAMPLES).stream()
                .map(value -> examples.deserialize(Topics.EXAMPLES, value))
                .filter(example -> recipeId.equals(example.recipeId()))
                .toList();
        DeadLetterDeserializer deadLetters = new DeadLetterDeserializer();
        List<DeadLetter> rejected = readAll(kafka, Topics.CONVERSATIONS_REJECTED).stream()
                .map(value -> deadLetters.deserialize(Topics.CONVERSATIONS_REJECTED, value))
                .filter(letter -> recipeId.equals(letter.recipeId()))
                .toList();
        System.out.println("== Formatted for recipe " + recipeId + " (GET /recipes/" + recipeId + ")");
        System.out.println("   " + (status == null ? "no status" : status.toString()));
        System.out.println(
                "   " + Topics.EXAMPLES + ": " + produced.size() + " examples; dead letters: " + rejected.size());
        rejected.forEach(letter -> System.out.println("   rejected  " + letter.reason()));
        if (!produced.isEmpty()) {
            System.out.println("   first example, trained text in [[ ]]:");
            StringBuilder shown = new StringBuilder();
            boolean inSpan = false;
            for (var segment : produced.get(0).segments()) {
                if (segment.trainable() != inSpan) {
                    shown.append(inSpan ? "]]" : "[[");
                    inSpan = segment.trainable();
                }
                shown.append(segment.text());
            }
            if (inSpan) {
                shown.append("]]");
            }
            shown.toString().lines().forEach(line -> System.out.println("     | " + line));
        }
        boolean balanced = status != null
                && read(status) == onTopic
                && status.path("formatted").asLong() == produced.size()
                && status.path("rejected").asLong() == rejected.size();
        System.out.println("== Format accounting: " + onTopic + " conversations read = "
                + (status == null
                        ? "?"
                        : status.path("formatted").asLong() + " formatted + "
                                + status.path("rejected").asLong() + " rejected + "
                                + status.path("skipped").asLong() + " skipped (other datasets)")
                + (balanced ? " (balanced)" : " (NOT BALANCED)"));
        return balanced;
    }

    /**
     * Waits until the tokenize service has read every example of the recipe and batched every training one (it
     * flushes a quiet stream after a few seconds), then shows the batches and the stage's accounting.
     */
    private static boolean printTokenizing(
            HttpClient http, ServiceProcess tokenize, KafkaSettings kafka, String recipeId)
            throws IOException, InterruptedException {
        FormattedExampleDeserializer examples = new FormattedExampleDeserializer();
        List<FormattedExample> produced = readAll(kafka, Topics.EXAMPLES).stream()
                .map(value -> examples.deserialize(Topics.EXAMPLES, value))
                .filter(example -> recipeId.equals(example.recipeId()))
                .toList();
        long onTopic = TopicSnapshot.read(kafka, Topics.EXAMPLES).size();
        long train = produced.stream().filter(e -> e.split() == Split.TRAIN).count();
        TrainBatchDeserializer batchReader = new TrainBatchDeserializer();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        JsonNode status = null;
        String lastProgress = "";
        List<TrainBatch> batches = List.of();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(tokenize.uri("/recipes/" + recipeId)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                status = EventJson.mapper().readTree(response.body());
                batches = TopicSnapshot.read(kafka, Topics.BATCHES).stream()
                        .filter(r -> recipeId.equals(r.key()))
                        .map(r -> batchReader.deserialize(Topics.BATCHES, r.value()))
                        .toList();
                long batched =
                        batches.stream().mapToLong(b -> b.exampleKeys().size()).sum();
                String progress = String.format(
                        "   tokenize: %d of %d examples read, %d batches (lag %d)",
                        status.path("read").asLong(),
                        onTopic,
                        batches.size(),
                        status.path("lag").asLong());
                if (!progress.equals(lastProgress)) {
                    System.out.println(progress);
                    lastProgress = progress;
                }
                if (status.path("read").asLong() >= onTopic
                        && batched >= status.path("train").asLong()) {
                    break;
                }
            }
            Thread.sleep(250); // polling an HTTP status until the worker has caught up and flushed
        }
        System.out.println(
                "== Tokenized for recipe " + recipeId + " (GET /recipes/" + recipeId + " on tokenize-service)");
        System.out.println("   " + (status == null ? "no status" : status.toString()));
        long rows = batches.stream().mapToLong(b -> b.sequences().size()).sum();
        long tokens = batches.stream().mapToLong(TrainBatch::totalTokens).sum();
        long trained = batches.stream().mapToLong(TrainBatch::trainableTokens).sum();
        System.out.println("   " + Topics.BATCHES + ": " + batches.size() + " batches, " + rows + " packed rows, "
                + tokens + " tokens, " + trained + " trained; examples: " + train + " train of " + produced.size());
        System.out.println("   export: GET " + tokenize.uri("/recipes/" + recipeId + "/export.bin?split=train"));
        boolean balanced = status != null
                && status.path("read").asLong() == onTopic
                && status.path("read").asLong()
                        == status.path("train").asLong()
                                + status.path("eval").asLong()
                                + status.path("rejected").asLong()
                                + status.path("duplicates").asLong()
                                + status.path("skipped").asLong();
        System.out.println("== Tokenize accounting: " + onTopic + " examples read = "
                + (status == null
                        ? "?"
                        : status.path("train").asLong() + " train + "
                                + status.path("eval").asLong() + " eval + "
                                + status.path("rejected").asLong() + " rejected + "
                                + status.path("duplicates").asLong()
                                + " duplicates + " + status.path("skipped").asLong() + " skipped (other recipes)")
                + (balanced ? " (balanced)" : " (NOT BALANCED)"));
        return balanced;
    }

    /**
     * {@code ./run-local up}: Kafka, PostgreSQL and the five services on their own ports, kept running for a user's
     * curl commands and browser until the process is stopped ({@code ./run-local down} sends it SIGTERM; the shutdown
     * hooks stop every service, the broker and the database).
     */
    private static void up(Path root) throws Exception {
        KafkaSettings kafka = Infrastructure.kafkaSettings();
        DatabaseEndpoint database = Infrastructure.database();
        String token = ApiToken.generate();
        LocalServices services = LocalServices.start(root, root, kafka, database, true, token);
        Runtime.getRuntime().addShutdownHook(new Thread(services::close));
        Path tokenFile = ApiToken.write(LocalServices.workFolder(root, true), token);
        System.out.println("Kafka       " + kafka.bootstrapServers());
        System.out.println("PostgreSQL  " + database.printableJdbcUrl());
        for (ServiceProcess service : services.running()) {
            System.out.printf(
                    "%-17s %s  (health %s, metrics %s, API %s)%n",
                    service.name(),
                    service.uri("/"),
                    service.uri("/q/health"),
                    service.uri("/q/metrics"),
                    service.uri("/q/openapi"));
        }
        System.out.println("watch runs at    " + services.eval().uri("/watch/"));
        System.out.println("logs in          " + LocalServices.workFolder(root, true));
        System.out.println("API token        " + token + "  (in " + root.relativize(tokenFile)
                + "; writes to ingest and trainer need -H \"Authorization: Bearer $(cat "
                + root.relativize(tokenFile) + ")\")");
        System.out.println(STACK_READY);
        new CountDownLatch(1).await(); // until SIGTERM or Ctrl+C
    }

    /**
     * The second half of the default run, the Jojo data factory's flow: the model just trained from scratch becomes
     * the base of a LoRA, a QLoRA and a JoLA recipe on the same data (its newest checkpoint, a Hugging Face folder under
     * the model root), each trained and scored against that base.
     */
    private static boolean fineTuneTheModelTrainedFromScratch(
            HttpClient http, LocalServices services, KafkaSettings kafka, Path root, Recipe pretraining, String runId)
            throws IOException, InterruptedException {
        JsonNode checkpoints = get(http, services.trainer(), "/runs/" + runId + "/checkpoints");
        String location =
                checkpoints.get(checkpoints.size() - 1).path("location").asText();
        Path newest = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        String base = root.relativize(newest.toAbsolutePath().normalize()).toString();
        String datasets = pretraining.dataConfig().datasets().stream()
                .map(DatasetWeight::name)
                .map(name -> "\"" + name + "\"")
                .collect(Collectors.joining(", "));
        String common = """
                model_config:
                  pretrained_model_name_or_path: %s
                  tokenizer: r50k_base
                data_config:
                  datasets: [%s]
                  format_type: chatml
                  system_prompt: You are a helpful assistant.
                  train_on: assistant
                  max_seq_length: 256
                  packing: true
                training_config:
                  learning_rate: 5e-3
                  lr_scheduler_type: constant_with_warmup
                  warmup_steps: 2
                  per_device_train_batch_size: 4
                  num_train_epochs: 6           # eight conversations: more epochs overfit them (valid loss rises)
                  save_steps: 50
                  seed: 42
                generation_config:
                  max_new_tokens: 24
                  num_samples: 2
                """.formatted(base, datasets);
        Map<String, String> methods = new LinkedHashMap<>();
        methods.put(
                "local-sample-lora",
                "lora_config:\n  r: 8\n  lora_alpha: 16\n" + "  target_modules: [q_proj, k_proj, v_proj, o_proj]\n");
        // QLoRA: the same LoRA over the base held in 4 bits (NF4, double quantisation), written as Axolotl writes it
        methods.put(
                "local-sample-qlora",
                "load_in_4bit: true\nlora_config:\n  r: 8\n  lora_alpha: 16\n"
                        + "  target_modules: [q_proj, k_proj, v_proj, o_proj]\n");
        methods.put("local-sample-jola", "jola_config:\n  gate_scheduler: expon\n");
        System.out.println("== Fine-tuning the model trained from scratch (" + base + ") with LoRA, QLoRA and JoLA");
        boolean ok = true;
        Map<String, String> runs = new LinkedHashMap<>();
        for (Map.Entry<String, String> method : methods.entrySet()) {
            String yaml = "id: " + method.getKey() + "\n" + common + method.getValue();
            Recipe recipe = RecipeParser.parse(yaml, method.getKey() + ".yaml").recipe();
            runs.put(method.getKey(), submit(http, services.trainer(), recipe, Path.of(method.getKey() + ".yaml")));
        }
        for (Map.Entry<String, String> run : runs.entrySet()) {
            Recipe recipe = RecipeParser.parse(
                            "id: " + run.getKey() + "\n" + common + methods.get(run.getKey()), run.getKey() + ".yaml")
                    .recipe();
            ok &= printTokenizing(http, services.tokenize(), kafka, run.getKey());
            ok &= printTraining(http, services.trainer(), kafka, recipe, run.getValue());
            ok &= printEvaluation(
                    http,
                    services.eval(),
                    run.getKey(),
                    get(http, services.trainer(), "/runs/" + run.getValue() + "/checkpoints")
                            .size());
        }
        return ok;
    }

    /** The losses as one line of block characters, lowest to highest: the curve's shape at a glance. */
    static String sparkline(JsonNode steps) {
        String blocks = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588";
        double low = Double.MAX_VALUE;
        double high = -Double.MAX_VALUE;
        for (JsonNode step : steps) {
            low = Math.min(low, step.path("loss").asDouble());
            high = Math.max(high, step.path("loss").asDouble());
        }
        StringBuilder line = new StringBuilder();
        for (JsonNode step : steps) {
            double share = high > low ? (step.path("loss").asDouble() - low) / (high - low) : 0;
            line.append(blocks.charAt((int) Math.round(share * (blocks.length() - 1))));
        }
        return steps.size() == 0 ? "(no step)" : line + String.format(Locale.ROOT, "  (max %.3f, min %.3f)", high, low);
    }

    /**
     * Where the real models are: {@code STREAMTUNE_MODELS}, else {@code ../shared/models} beside the repository;
     * the folder must hold stories260K.
     */
    private static Path sharedModels(Path root) {
        String given = System.getenv("STREAMTUNE_MODELS");
        Path models = given != null
                ? Path.of(given).toAbsolutePath()
                : root.resolve("../shared/models").normalize();
        if (!Files.isRegularFile(models.resolve("stories260K/stories260K.bin"))) {
            throw new IllegalArgumentException("--model stories260K: " + models.resolve("stories260K/stories260K.bin")
                    + " is missing (set STREAMTUNE_MODELS to the folder that holds stories260K/)");
        }
        return models;
    }

    /** The line {@code ./run-local up} waits for before it returns to the shell. */
    static final String STACK_READY = "stack ready";

    /** POST /recipes on the trainer, as a user does: the recipe is checked against its model and published. */
    private static String submit(HttpClient http, ServiceProcess trainer, Recipe recipe, Path file)
            throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(trainer.uri("/recipes"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                EventJson.mapper().writeValueAsString(recipe)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = EventJson.mapper().readTree(response.body());
        if (response.statusCode() != 202) {
            System.out.println(
                    "== Recipe " + file.getFileName() + " refused by trainer-service (" + response.statusCode() + ")");
            body.path("problems").forEach(problem -> System.out.println("   " + problem.asText()));
            throw new IllegalStateException(
                    "the recipe was refused: " + body.path("detail").asText());
        }
        System.out.println("== Recipe " + recipe.id() + " (" + file.getFileName() + ") accepted by trainer-service"
                + " (POST /recipes): run " + body.path("runId").asText() + ", "
                + body.path("method").asText());
        body.path("warnings").forEach(warning -> System.out.println("   recipe warning: " + warning.asText()));
        return body.path("runId").asText();
    }

    /**
     * Waits until the run has trained every batch the recipe's data made (whole optimiser steps) and checkpointed
     * them, then shows the loss curve and where the checkpoints are.
     */
    private static boolean printTraining(
            HttpClient http, ServiceProcess trainer, KafkaSettings kafka, Recipe recipe, String runId)
            throws IOException, InterruptedException {
        int accumulation =
                recipe.trainingConfig() == null || recipe.trainingConfig().gradientAccumulationSteps() == null
                        ? RecipeDefaults.GRADIENT_ACCUMULATION_STEPS
                        : recipe.trainingConfig().gradientAccumulationSteps();
        long batches = TopicSnapshot.read(kafka, Topics.BATCHES).stream()
                .filter(r -> recipe.id().equals(r.key()))
                .count();
        Long maxSteps =
                recipe.trainingConfig() == null || recipe.trainingConfig().maxSteps() == null
                        ? null
                        : recipe.trainingConfig().maxSteps().longValue();
        Double epochs =
                recipe.trainingConfig() == null ? null : recipe.trainingConfig().numTrainEpochs();
        long expected = maxSteps != null
                ? Math.min(maxSteps, batches / accumulation)
                : epochs != null
                        ? (long) Math.ceil(Math.round(epochs * batches) / (double) accumulation)
                        : batches / accumulation;
        System.out.println("== Training run " + runId + " (" + batches + " batches, " + expected + " optimiser steps)");
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        JsonNode run = null;
        JsonNode checkpoints = null;
        long shown = -1;
        while (System.nanoTime() < deadline) {
            run = get(http, trainer, "/runs/" + runId);
            checkpoints = get(http, trainer, "/runs/" + runId + "/checkpoints");
            long step = run.path("step").asLong();
            if (step != shown) {
                System.out.printf(
                        "   step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s  %s%n",
                        step,
                        expected,
                        run.path("lastLoss").asDouble(),
                        run.path("learningRate").asDouble(),
                        run.path("tokensPerSecond").asDouble(),
                        run.path("state").asText());
                shown = step;
            }
            // until the run has started, the trainer answers 404 (an error object, not a list)
            boolean checkpointed = checkpoints.isArray()
                    && checkpoints.size() > 0
                    && checkpoints.get(checkpoints.size() - 1).path("step").asLong() == step;
            if (run.path("state").asText().equals("FAILED") || (step >= expected && checkpointed)) {
                break;
            }
            Thread.sleep(500); // polling the run's status while it trains
        }
        JsonNode steps = get(http, trainer, "/runs/" + runId + "/steps");
        StringBuilder curve = new StringBuilder();
        for (JsonNode step : steps) {
            curve.append(String.format(" %.3f", step.path("loss").asDouble()));
        }
        System.out.println("   loss by step:" + curve);
        System.out.println("   loss curve:   " + sparkline(steps));
        System.out.println("   on " + run.path("device").asText() + " "
                + run.path("dtype").asText() + ", "
                + run.path("tokensSeen").asLong() + " trained tokens, state "
                + run.path("state").asText()
                + (run.path("failure").isTextual() ? ": " + run.path("failure").asText() : ""));
        String model = run.path("model").asText("");
        if (model.contains("4 bits")) { // QLoRA: say how the base is held
            System.out.println("   base: " + model.substring(model.indexOf("linear layers in 4 bits")));
        }
        for (JsonNode checkpoint :
                checkpoints.isArray() ? checkpoints : EventJson.mapper().createArrayNode()) {
            System.out.println("   checkpoint-" + checkpoint.path("step").asLong() + " "
                    + checkpoint.path("format").asText() + " "
                    + checkpoint.path("location").asText() + " ("
                    + checkpoint.path("checksum").asText() + ")");
        }
        System.out.println("   follow it: GET " + trainer.uri("/runs/" + runId) + ", /steps, /checkpoints; metrics at "
                + trainer.uri("/q/metrics"));
        boolean complete = run.path("step").asLong() >= expected && checkpoints.isArray() && checkpoints.size() > 0;
        System.out.println("== Training: " + run.path("step").asLong() + " of " + expected + " steps trained and"
                + " checkpointed " + (complete ? "(complete)" : "(INCOMPLETE)"));
        return complete;
    }

    /**
     * Waits until eval-service has scored the base model and every checkpoint of the run on the recipe's validation
     * and test examples, then shows each score, the best checkpoint against the base, and one generation.
     */
    private static boolean printEvaluation(HttpClient http, ServiceProcess eval, String recipeId, int checkpoints)
            throws IOException, InterruptedException {
        System.out.println("== Evaluation (eval-service)");
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        JsonNode sets = get(http, eval, "/recipes/" + recipeId + "/sets");
        JsonNode rows = null;
        boolean done = false;
        Set<String> reported = new HashSet<>();
        while (!done && System.nanoTime() < deadline) {
            sets = get(http, eval, "/recipes/" + recipeId + "/sets");
            int examples = sets.path("sizes").path("valid").asInt(0)
                    + sets.path("sizes").path("test").asInt(0);
            if (sets.path("complete").asBoolean() && examples == 0) {
                System.out.println("   the recipe's data has no validation or test examples: nothing to score");
                return true;
            }
            rows = get(http, eval, "/recipes/" + recipeId + "/checkpoints");
            done = rows.isArray() && rows.size() >= checkpoints + 1;
            for (JsonNode row : rows.isArray() ? rows : EventJson.mapper().createArrayNode()) {
                String status = row.path("status").asText();
                boolean finished = status.equals("SCORED") || status.equals("FAILED");
                done &= finished;
                String name = row.path("checksum").asText().equals("base")
                        ? "base model"
                        : "checkpoint-" + row.path("step").asLong();
                if (finished && reported.add(name)) { // as the evaluations land, not only at the end
                    System.out.println("   " + status.toLowerCase() + " " + name
                            + (status.equals("FAILED")
                                    ? ": " + row.path("detail").asText()
                                    : ""));
                }
            }
            if (!done) {
                Thread.sleep(500); // polling eval-service while it scores
            }
        }
        System.out.println("   eval sets " + sets.path("sizes"));
        JsonNode evaluations = get(http, eval, "/recipes/" + recipeId + "/evaluations");
        long failed = 0;
        for (JsonNode row : evaluations) {
            String name = row.path("base").asBoolean()
                    ? "base model"
                    : "checkpoint-" + row.path("step").asLong();
            if (row.path("error").isTextual()) {
                failed++;
                System.out.printf(
                        "   %-14s %-5s error: %s%n",
                        name, row.path("split").asText(), row.path("error").asText());
                continue;
            }
            JsonNode generation = row.path("generationMetrics");
            System.out.printf(
                    "   %-14s %-5s loss %.4f  perplexity %.2f  token accuracy %.3f  on %d examples"
                            + "  (ROUGE-L %.3f, stopped by itself %.0f%%)%n",
                    name,
                    row.path("split").asText(),
                    row.path("loss").asDouble(),
                    row.path("perplexity").asDouble(),
                    row.path("tokenAccuracy").asDouble(),
                    row.path("examples").asLong(),
                    generation.path("rouge_l").asDouble(),
                    100 * generation.path("stopped_by_itself").asDouble());
        }
        String split = sets.path("sizes").path("valid").asInt(0) > 0 ? "valid" : "test";
        HttpResponse<String> best = http.send(
                HttpRequest.newBuilder(eval.uri("/recipes/" + recipeId + "/best?metric=" + split + "_loss"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (best.statusCode() == 200) {
            JsonNode bestRow = EventJson.mapper().readTree(best.body());
            System.out.println("   best: " + bestRow.path("summary").asText());
            for (JsonNode row : evaluations) {
                if (row.path("step").asLong() == bestRow.path("step").asLong()
                        && row.path("split").asText().equals(split)) {
                    JsonNode samples =
                            get(http, eval, "/evaluations/" + row.path("id").asLong() + "/samples");
                    // every generation of the best checkpoint beside its reference
                    for (JsonNode sample : samples) {
                        System.out.println(
                                "   prompt     ..." + tail(sample.path("prompt").asText(), 100));
                        System.out.println(
                                "   reference  " + head(sample.path("reference").asText(), 100));
                        System.out.printf(
                                "   generated  %s  [%s, ROUGE-L %.3f]%n",
                                head(sample.path("generation").asText(), 100),
                                sample.path("finish").asText(),
                                sample.path("rougeL").asDouble());
                    }
                }
            }
        }
        System.out.println("   follow it: GET " + eval.uri("/recipes/" + recipeId + "/evaluations") + ", /best, "
                + "/checkpoints; metrics at " + eval.uri("/q/metrics"));
        boolean complete = done && failed == 0;
        System.out.println("== Evaluation: the base and " + checkpoints + " checkpoints scored "
                + (complete ? "(complete)" : "(INCOMPLETE)"));
        return complete;
    }

    private static String head(String text, int length) {
        String line = text.replace('\n', ' ');
        return line.length() <= length ? line : line.substring(0, length) + "...";
    }

    private static String tail(String text, int length) {
        String line = text.replace('\n', ' ');
        return line.length() <= length ? line : line.substring(line.length() - length);
    }

    private static JsonNode get(HttpClient http, ServiceProcess service, String path)
            throws IOException, InterruptedException {
        return EventJson.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(service.uri(path)).build(), HttpResponse.BodyHandlers.ofString())
                        .body());
    }

    private static long read(JsonNode status) {
        return status.path("formatted").asLong()
                + status.path("rejected").asLong()
                + status.path("skipped").asLong();
    }

    private static JsonNode upload(HttpClient http, ServiceProcess ingest, String dataset, String split, Path file)
            throws IOException, InterruptedException {
        String name = file.getFileName().toString();
        URI uri =
                ingest.uri("/datasets/" + dataset + "/records?source=" + URLEncoder.encode(name, StandardCharsets.UTF_8)
                        + "&split=" + URLEncoder.encode(split, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofMinutes(30))
                        .header("Content-Type", "application/octet-stream")
                        .POST(HttpRequest.BodyPublishers.ofFile(file))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(
                    "upload of " + file + " answered " + response.statusCode() + ": " + response.body());
        }
        return EventJson.mapper().readTree(response.body());
    }

    private static void printReceipt(Path file, JsonNode receipt) {
        System.out.println("== Ingested " + file);
        System.out.printf(
                "   records %d: published %d, rejected %d, duplicates %d, unused %d%n",
                receipt.path("records").asLong(),
                receipt.path("published").asLong(),
                receipt.path("rejected").asLong(),
                receipt.path("duplicates").asLong(),
                receipt.path("unused").asLong());
        System.out.println("   per split " + receipt.path("splits"));
        System.out.println("   formats   " + receipt.path("formats"));
        // grouped by reason (its line and column left out), with a count and the first record each: eighty records
        // refused for one reason are one line, not eighty
        Map<String, List<String>> byReason = new LinkedHashMap<>();
        for (JsonNode rejection : receipt.path("rejections")) {
            String reason = rejection.path("reason").asText().replaceFirst("^line \\d+(,? column \\d+)?: ", "");
            byReason.computeIfAbsent(reason, r -> new ArrayList<>())
                    .add(rejection.path("source").asText());
        }
        byReason.forEach((reason, sources) ->
                System.out.printf("   rejected  %d x %s (e.g. %s)%n", sources.size(), reason, sources.get(0)));
        long listed = byReason.values().stream().mapToLong(List::size).sum();
        if (listed < receipt.path("rejected").asLong()) {
            System.out.println("   (the receipt lists the first " + listed + " of "
                    + receipt.path("rejected").asLong() + " rejections; each one is a dead letter on "
                    + Topics.CONVERSATIONS_REJECTED + ")");
        }
    }

    /** Reads both output topics to their end and counts what the dataset put there. */
    private static void printTopics(KafkaSettings kafka, String dataset) {
        ConversationDeserializer conversations = new ConversationDeserializer();
        DeadLetterDeserializer deadLetters = new DeadLetterDeserializer();
        Map<String, Long> bySplit = new TreeMap<>();
        long letters = 0;
        for (byte[] value : readAll(kafka, Topics.CONVERSATIONS)) {
            Conversation conversation = conversations.deserialize(Topics.CONVERSATIONS, value);
            if (dataset.equals(conversation.dataset())) {
                bySplit.merge(conversation.split().wireName(), 1L, Long::sum);
            }
        }
        for (byte[] value : readAll(kafka, Topics.CONVERSATIONS_REJECTED)) {
            DeadLetter letter = deadLetters.deserialize(Topics.CONVERSATIONS_REJECTED, value);
            if (dataset.equals(letter.dataset())) {
                letters++;
            }
        }
        System.out.println("== On the topics");
        System.out.println("   " + Topics.CONVERSATIONS + ": "
                + bySplit.values().stream().mapToLong(Long::longValue).sum() + " conversations " + bySplit);
        System.out.println("   " + Topics.CONVERSATIONS_REJECTED + ": " + letters + " dead letters");
    }

    private static List<byte[]> readAll(KafkaSettings kafka, String topic) {
        return TopicSnapshot.read(kafka, topic).stream()
                .map(ConsumerRecord::value)
                .toList();
    }
}
