package dev.streamtune.eval;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import ai.djl.ndarray.NDManager;
import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Event;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.RunIds;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EvaluationDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.tokenizer.Llama2cTokenizer;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import dev.streamtune.localstack.testing.Producers;
import dev.streamtune.localstack.testing.RecipeTopic;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.JsonConfig;
import io.restassured.path.json.JsonPath;
import io.restassured.path.json.config.JsonPathConfig;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * eval-service through the real broker and database on stories260K and real ShareGPT conversations: the eval sets
 * kept within their bounds, the base scored, a LoRA, a DoRA and a closed JoLA checkpoint applied and scored as a
 * direct computation says, damaged checkpoints turned into error evaluations while the next one is still scored,
 * the newest checkpoint first when behind, and the results served, measured and published.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(PostgresTestResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EvalIT {

    static {
        // scores are doubles: read them as such, not as JsonPath's default floats
        RestAssured.config = RestAssured.config()
                .jsonConfig(JsonConfig.jsonConfig().numberReturnType(JsonPathConfig.NumberReturnType.DOUBLE));
        JsonPath.config = JsonPathConfig.jsonPathConfig().numberReturnType(JsonPathConfig.NumberReturnType.DOUBLE);
    }

    private static final Duration PATIENCE = Duration.ofSeconds(180);

    @Inject
    EvalStage stage;

    @Test
    @Order(1)
    void everyCheckpointIsScoredAgainstItsBase() throws Exception {
        Path models = SharedData.models();
        Path shareGpt = SharedData.shareGpt();
        String recipe = "eval-it-" + UUID.randomUUID().toString().substring(0, 8);
        RecipeTopic.publish(
                Infrastructure.kafkaBootstrapServers(),
                RecipeYaml.withId(recipe)
                        .stories260K()
                        .data("format_type", "chatml")
                        .data("max_seq_length", 96)
                        .data("valid_size", 6)
                        .data("test_size", 4)
                        .training("per_device_eval_batch_size", 4)
                        .lora("r", 4)
                        .lora("target_modules", List.of("q_proj", "v_proj"))
                        .generation("max_new_tokens", 12)
                        .generation("num_samples", 3)
                        .parse("eval-it"));

        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(models.resolve("stories260K/tok512.bin"), 512);
        List<EvalExample> valid = RealExamples.of(shareGpt, tokenizer, recipe, Split.VALID, 0, 8, 96);
        List<EvalExample> test = RealExamples.of(shareGpt, tokenizer, recipe, Split.TEST, 200, 4, 96);
        EvalExample train = RealExamples.of(shareGpt, tokenizer, recipe, Split.TRAIN, 300, 1, 96)
                .get(0);
        EvalExample otherRecipe = RealExamples.of(shareGpt, tokenizer, "someone-else", Split.VALID, 0, 1, 96)
                .get(0);

        Path root = Path.of("target/eval-checkpoints", recipe).toAbsolutePath();
        List<CheckpointEvent> announcements = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm base = ModelSource.at(models.resolve("stories260K/stories260K.bin"))
                    .load(42, Precision.FLOAT32, manager);
            Checkpoints.lora(root.resolve("checkpoint-1"), base, 1, manager);
            announcements.add(Checkpoints.announce(recipe, 1, root.resolve("checkpoint-1"), "peft-lora"));
            Checkpoints.closedJola(root.resolve("checkpoint-2"), (LlamaModel) base, manager);
            announcements.add(Checkpoints.announce(recipe, 2, root.resolve("checkpoint-2"), "jola"));
            // altered after it was announced
            Checkpoints.lora(root.resolve("checkpoint-3"), base, 3, manager);
            announcements.add(Checkpoints.announce(recipe, 3, root.resolve("checkpoint-3"), "peft-lora"));
            Files.writeString(root.resolve("checkpoint-3/adapter_config.json"), "{}");
            // never written
            announcements.add(Checkpoints.announce(
                    recipe, 4, root.resolve("checkpoint-4"), "peft-lora", "sha256:" + "0".repeat(64)));
            // written corrupt: its checksum matches, its weights do not load
            Checkpoints.lora(root.resolve("checkpoint-5"), base, 5, manager);
            Files.write(root.resolve("checkpoint-5/" + PeftAdapterFolder.WEIGHTS), new byte[] {1, 2, 3});
            announcements.add(Checkpoints.announce(recipe, 5, root.resolve("checkpoint-5"), "peft-lora"));
            Checkpoints.dora(root.resolve("checkpoint-6"), base, 6, manager);
            announcements.add(Checkpoints.announce(recipe, 6, root.resolve("checkpoint-6"), "peft-dora"));
            Checkpoints.lora(root.resolve("checkpoint-7"), base, 7, manager);
            announcements.add(Checkpoints.announce(recipe, 7, root.resolve("checkpoint-7"), "peft-lora"));
        }

        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            for (EvalExample example : valid) {
                send(producer, Topics.EVAL_EXAMPLES, example.key(), example);
            }
            for (EvalExample example : test) {
                send(producer, Topics.EVAL_EXAMPLES, example.key(), example);
            }
            send(producer, Topics.EVAL_EXAMPLES, valid.get(0).key(), valid.get(0)); // a duplicate
            send(producer, Topics.EVAL_EXAMPLES, train.key(), train); // not an eval example
            send(producer, Topics.EVAL_EXAMPLES, otherRecipe.key(), otherRecipe); // another recipe's
            for (CheckpointEvent announcement : announcements) {
                send(producer, Topics.CHECKPOINTS, recipe, announcement);
            }
            send(producer, Topics.CHECKPOINTS, recipe, announcements.get(6)); // announced twice: scored once
        }

        await().atMost(PATIENCE)
                .until(
                        () -> given().get("/recipes/" + recipe + "/checkpoints")
                                .then()
                                .extract()
                                .jsonPath()
                                .getList("status", String.class),
                        statuses -> statuses.size() == 8
                                && statuses.stream().allMatch(s -> s.equals("SCORED") || s.equals("FAILED")));

        // the sets, within their bounds
        JsonPath sets = given().get("/recipes/" + recipe + "/sets")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(sets.getInt("sizes.valid")).isEqualTo(6);
        assertThat(sets.getInt("sizes.test")).isEqualTo(4);
        // the first six valid examples to arrive (the topic's partitions interleave them)
        Map<String, EvalExample> byKey = valid.stream().collect(Collectors.toMap(EvalExample::key, e -> e));
        List<EvalExample> validSet = given()
                .get("/recipes/" + recipe + "/sets/valid")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$", String.class)
                .stream()
                .map(byKey::get)
                .toList();
        assertThat(validSet).hasSize(6).doesNotContainNull();
        Map<String, EvalExample> testKeys = test.stream().collect(Collectors.toMap(EvalExample::key, e -> e));
        List<EvalExample> testSet = given()
                .get("/recipes/" + recipe + "/sets/test")
                .then()
                .extract()
                .jsonPath()
                .getList("$", String.class)
                .stream()
                .map(testKeys::get)
                .toList();

        List<Map<String, Object>> evaluations = given().get("/recipes/" + recipe + "/evaluations")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
        Map<String, Map<String, Object>> byStepSplit =
                evaluations.stream().collect(Collectors.toMap(e -> e.get("step") + "/" + e.get("split"), e -> e));
        assertThat(byStepSplit.keySet())
                .containsExactlyInAnyOrder(
                        "0/valid", "0/test", "1/valid", "1/test", "2/valid", "2/test", "3/valid", "3/test", "4/valid",
                        "4/test", "5/valid", "5/test", "6/valid", "6/test", "7/valid", "7/test");

        // the base and the LoRA checkpoint: as computed directly, example by example
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm base = ModelSource.at(models.resolve("stories260K/stories260K.bin"))
                    .load(42, Precision.FLOAT32, manager);
            Reference.Scores baseValid = Reference.of(base, validSet, manager);
            Reference.Scores baseTest = Reference.of(base, testSet, manager);
            assertScores(byStepSplit.get("0/valid"), baseValid, 6);
            assertScores(byStepSplit.get("0/test"), baseTest, 4);
            assertThat(byStepSplit.get("0/valid").get("base")).isEqualTo(true);
            base.setAdapters(PeftAdapterFolder.load(root.resolve("checkpoint-1"), base, manager, false));
            Reference.Scores loraValid = Reference.of(base, validSet, manager);
            assertScores(byStepSplit.get("1/valid"), loraValid, 6);
            assertThat(loraValid.loss()).isNotCloseTo(baseValid.loss(), within(1e-3));
            base.setAdapters(PeftAdapterFolder.load(root.resolve("checkpoint-6"), base, manager, false));
            Reference.Scores doraValid = Reference.of(base, validSet, manager);
            assertScores(byStepSplit.get("6/valid"), doraValid, 6);
            assertThat(doraValid.loss()).isNotCloseTo(baseValid.loss(), within(1e-3));
        }

        // every gate closed: exactly the base
        for (String split : List.of("valid", "test")) {
            assertThat(number(byStepSplit.get("2/" + split), "loss"))
                    .isEqualTo(number(byStepSplit.get("0/" + split), "loss"));
            assertThat(number(byStepSplit.get("2/" + split), "tokenAccuracy"))
                    .isEqualTo(number(byStepSplit.get("0/" + split), "tokenAccuracy"));
        }

        // damaged checkpoints are error evaluations; the one after them was scored
        assertThat((String) byStepSplit.get("3/valid").get("error")).contains("checksum mismatch");
        assertThat((String) byStepSplit.get("4/valid").get("error")).contains("does not exist");
        assertThat((String) byStepSplit.get("5/valid").get("error")).contains("cannot be loaded");
        assertThat(byStepSplit.get("7/valid").get("error")).isNull();
        assertThat(number(byStepSplit.get("7/valid"), "loss")).isPositive();

        // behind: the newest went first, the others were recorded as skipped, then scored
        long newest = ((Number) byStepSplit.get("7/valid").get("id")).longValue();
        for (int step = 1; step <= 6; step++) {
            assertThat(((Number) byStepSplit.get(step + "/valid").get("id")).longValue())
                    .isGreaterThan(newest);
        }
        List<Map<String, Object>> checkpoints = given().get("/recipes/" + recipe + "/checkpoints")
                .then()
                .extract()
                .jsonPath()
                .getList("$");
        assertThat(checkpoints)
                .filteredOn(c -> ((Number) c.get("step")).intValue() == 1)
                .singleElement()
                .satisfies(c -> assertThat((String) c.get("detail")).contains("step 7 went first"));

        // generations: the first three valid prompts, with their references
        long scoredValid = ((Number) byStepSplit.get("7/valid").get("id")).longValue();
        List<Map<String, Object>> samples = given().get("/evaluations/" + scoredValid + "/samples")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
        assertThat(samples).hasSize(3);
        assertThat(samples)
                .extracting(s -> s.get("exampleKey"))
                .containsExactly(
                        validSet.get(0).key(),
                        validSet.get(1).key(),
                        validSet.get(2).key());
        assertThat(samples)
                .extracting(s -> s.get("reference"))
                .containsExactly(
                        validSet.get(0).referenceResponse(),
                        validSet.get(1).referenceResponse(),
                        validSet.get(2).referenceResponse());
        assertThat(samples)
                .allSatisfy(
                        s -> assertThat((String) s.get("finish")).isIn("STOP_TOKEN", "MAX_NEW_TOKENS", "CONTEXT_FULL"));
        @SuppressWarnings("unchecked")
        Map<String, Number> generation =
                (Map<String, Number>) byStepSplit.get("7/valid").get("generationMetrics");
        assertThat(generation)
                .containsKeys(
                        "exact_match",
                        "rouge_l",
                        "token_reduction",
                        "stopped_by_itself",
                        "generated_tokens_mean",
                        "reference_tokens_mean");
        assertThat(generation.get("samples").doubleValue()).isEqualTo(3.0);

        // the best checkpoint beside the base
        JsonPath best = given().get("/recipes/" + recipe + "/best?metric=valid_loss")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        double bestLoss = evaluations.stream()
                .filter(e ->
                        "valid".equals(e.get("split")) && e.get("error") == null && !Boolean.TRUE.equals(e.get("base")))
                .mapToDouble(e -> number(e, "loss"))
                .min()
                .orElseThrow();
        assertThat(best.getDouble("value")).isCloseTo(bestLoss, within(1e-9));
        assertThat(best.getDouble("baseline")).isCloseTo(number(byStepSplit.get("0/valid"), "loss"), within(1e-9));
        assertThat(best.getString("summary")).startsWith("valid loss ").contains(" -> ");
        given().get("/recipes/" + recipe + "/best?metric=valid_bleu").then().statusCode(400);
        given().get("/evaluations/999999999/samples").then().statusCode(404);

        // on the topic for the trainer: every evaluation once, errors carrying their reason
        List<Evaluation> published = evaluations(recipe);
        assertThat(published).hasSize(16);
        assertThat(published)
                .filteredOn(e -> e.checkpointStep() == 0)
                .allSatisfy(e -> assertThat(e.checksum()).isEqualTo(Evaluation.BASE));
        assertThat(published)
                .filteredOn(e -> !e.scored())
                .extracting(Evaluation::checkpointStep)
                .containsOnly(3L, 4L, 5L);
        assertThat(published)
                .filteredOn(e -> e.checkpointStep() == 7 && e.split() == Split.VALID)
                .singleElement()
                .satisfies(
                        e -> assertThat(e.loss()).isCloseTo(number(byStepSplit.get("7/valid"), "loss"), within(1e-12)));

        // the train example is a dead letter naming the field; the accounting adds up
        assertThat(TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                        .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                        .filter(letter -> recipe.equals(letter.recipeId()))
                        .map(DeadLetter::reason))
                .singleElement()
                .asString()
                .contains("field split");
        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics)
                .contains(
                        "eval_loss{recipe=\"" + recipe + "\",split=\"valid\"}",
                        "eval_perplexity{recipe=\"" + recipe + "\",split=\"test\"}",
                        "eval_token_accuracy{recipe=\"" + recipe + "\",split=\"valid\"}",
                        "eval_seconds_count{recipe=\"" + recipe + "\"}",
                        "eval_pending_checkpoints{recipe=\"" + recipe + "\"} 0.0",
                        "eval_models_held 1.0"); // the recipe's base, kept loaded for its next checkpoint
        assertThat(counter(metrics, recipe, "stored")).isEqualTo(10);
        assertThat(counter(metrics, recipe, "beyond_bound")).isEqualTo(2);
        assertThat(counter(metrics, recipe, "duplicate")).isEqualTo(1);
        assertThat(counter(metrics, recipe, "rejected")).isEqualTo(1);
    }

    /**
     * A QLoRA recipe: its base and its checkpoints are scored on the 4-bit base they were trained on, not on the
     * float32 model the recipe names.
     */
    @Test
    @Order(3)
    void aQloraRecipeIsScoredOnItsFourBitBase() throws Exception {
        Path models = SharedData.models();
        String recipe = "eval-qlora-" + UUID.randomUUID().toString().substring(0, 8);
        RecipeTopic.publish(Infrastructure.kafkaBootstrapServers(), loraOnStories(recipe, true));
        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(models.resolve("stories260K/tok512.bin"), 512);
        List<EvalExample> valid = RealExamples.of(SharedData.shareGpt(), tokenizer, recipe, Split.VALID, 0, 4, 96);
        Path root = Path.of("target/eval-checkpoints", recipe).toAbsolutePath();
        FourBitConfig fourBit = new FourBitConfig(FourBitType.NF4, true, null);
        ModelSource source = ModelSource.at(models.resolve("stories260K/stories260K.bin"));
        CheckpointEvent announcement;
        try (NDManager manager = NDManager.newBaseManager()) {
            Checkpoints.lora(
                    root.resolve("checkpoint-1"), source.load(42, Precision.FLOAT32, fourBit, manager), 1, manager);
            announcement = Checkpoints.announce(recipe, 1, root.resolve("checkpoint-1"), "peft-lora");
        }
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            for (EvalExample example : valid) {
                send(producer, Topics.EVAL_EXAMPLES, example.key(), example);
            }
            send(producer, Topics.CHECKPOINTS, recipe, announcement);
        }
        await().atMost(PATIENCE)
                .until(
                        () -> given().get("/recipes/" + recipe + "/checkpoints")
                                .then()
                                .extract()
                                .jsonPath()
                                .getList("status", String.class),
                        statuses -> statuses.size() == 2
                                && statuses.stream().allMatch(s -> s.equals("SCORED") || s.equals("FAILED")));
        Map<String, Map<String, Object>> byStep = given()
                .get("/recipes/" + recipe + "/evaluations")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .<Map<String, Object>>getList("$")
                .stream()
                .collect(Collectors.toMap(e -> String.valueOf(((Number) e.get("step")).longValue()), e -> e));
        assertThat(byStep.keySet()).containsExactlyInAnyOrder("0", "1");
        assertThat(byStep.get("1").get("error")).isNull();
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm base = source.load(42, Precision.FLOAT32, fourBit, manager);
            Reference.Scores baseScores = Reference.of(base, valid, manager);
            assertScores(byStep.get("0"), baseScores, 4);
            Reference.Scores dense = Reference.of(source.load(42, Precision.FLOAT32, manager), valid, manager);
            assertThat(dense.loss())
                    .as("the float32 model scores otherwise")
                    .isNotCloseTo(baseScores.loss(), within(1e-3));
            base.setAdapters(PeftAdapterFolder.load(root.resolve("checkpoint-1"), base, manager, false));
            assertScores(byStep.get("1"), Reference.of(base, valid, manager), 4);
        }
    }

    @Test
    @Order(2)
    void aCheckpointOfAnUnknownRecipeIsAnErrorEvaluation() throws Exception {
        Path folder = Path.of("target/eval-checkpoints/nobody").toAbsolutePath();
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("adapter_config.json"), "{}");
        String recipe = "nobody-" + UUID.randomUUID().toString().substring(0, 8);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            send(producer, Topics.CHECKPOINTS, recipe, Checkpoints.announce(recipe, 3, folder, "peft-lora"));
        }
        await().atMost(PATIENCE).until(() -> !evaluations(recipe).isEmpty());
        assertThat(evaluations(recipe)).singleElement().satisfies(e -> {
            assertThat(e.scored()).isFalse();
            assertThat(e.error()).contains("recipe " + recipe + " is not known to eval-service");
            assertThat(e.checkpointStep()).isEqualTo(3);
        });
    }

    /**
     * A recipe's versions: the second changes the model (one built from scratch), so it has a base of its own,
     * scored afresh, and its checkpoints are applied to that base and compared with it; the third changes only the
     * learning rate and keeps the second's base. The first version's base and checkpoint stay as they were.
     */
    @Test
    @Order(4)
    void aVersionWithAnotherModelIsComparedWithItsOwnBase() throws Exception {
        Path models = SharedData.models();
        String recipe = "eval-versions-" + UUID.randomUUID().toString().substring(0, 8);
        Recipe first = versionOnStories(RecipeYaml.withId(recipe).stories260K()).parse("eval-it");
        Recipe second = versionOnStories(fromScratch(recipe)).parse("eval-it");
        Recipe third = versionOnStories(fromScratch(recipe))
                .training("learning_rate", "0.0005")
                .parse("eval-it");
        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(models.resolve("stories260K/tok512.bin"), 512);
        List<EvalExample> valid = RealExamples.of(SharedData.shareGpt(), tokenizer, recipe, Split.VALID, 0, 4, 96);
        Path root = Path.of("target/eval-checkpoints", recipe).toAbsolutePath();
        RecipeModels recipeModels = new RecipeModels(models);

        try (NDManager manager = NDManager.newBaseManager();
                KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            CausalLm stories = recipeModels.base(first).load(Precision.FLOAT32, manager);
            CausalLm scratch = recipeModels.base(second).load(Precision.FLOAT32, manager);
            Checkpoints.lora(root.resolve("checkpoint-1"), stories, 1, manager);
            Checkpoints.lora(root.resolve("checkpoint-2"), scratch, 2, manager);
            Checkpoints.lora(root.resolve("checkpoint-3"), scratch, 3, manager);

            RecipeTopic.publish(Infrastructure.kafkaBootstrapServers(), first);
            for (EvalExample example : valid) {
                send(producer, Topics.EVAL_EXAMPLES, example.key(), example);
            }
            send(
                    producer,
                    Topics.CHECKPOINTS,
                    recipe,
                    Checkpoints.announce(recipe, 1, root.resolve("checkpoint-1"), "peft-lora"));
            awaitScored(recipe, 2);

            // the new model's base is scored before its checkpoint is announced, so that the checkpoint cannot
            // reach the scorer while the first version is still the one active
            RecipeTopic.publish(Infrastructure.kafkaBootstrapServers(), second);
            awaitScored(recipe, 3);
            send(
                    producer,
                    Topics.CHECKPOINTS,
                    recipe,
                    Checkpoints.announce(recipe, 2, root.resolve("checkpoint-2"), "peft-lora"));
            awaitScored(recipe, 4);

            // the third version is active once the base it shares is the third version's run's
            RecipeTopic.publish(Infrastructure.kafkaBootstrapServers(), third);
            await().atMost(PATIENCE)
                    .until(() -> checkpoints(recipe).stream()
                            .anyMatch(c -> Evaluation.BASE.equals(c.get("checksum"))
                                    && RunIds.of(third).equals(c.get("runId"))));
            send(
                    producer,
                    Topics.CHECKPOINTS,
                    recipe,
                    Checkpoints.announce(recipe, 3, root.resolve("checkpoint-3"), "peft-lora"));
            awaitScored(recipe, 5);

            // two bases, one per model: the third version made none
            List<Map<String, Object>> checkpoints = checkpoints(recipe);
            assertThat(checkpoints)
                    .hasSize(5)
                    .allSatisfy(c -> assertThat(c.get("status")).isEqualTo("SCORED"));
            List<Map<String, Object>> baseRows = checkpoints.stream()
                    .filter(c -> Evaluation.BASE.equals(c.get("checksum")))
                    .toList();
            assertThat(baseRows)
                    .hasSize(2)
                    .extracting(c -> c.get("baseIdentity"))
                    .doesNotContainNull()
                    .doesNotHaveDuplicates();

            Map<String, Map<String, Object>> byStep = new HashMap<>();
            List<Map<String, Object>> bases = new ArrayList<>();
            for (Map<String, Object> e : given().get("/recipes/" + recipe + "/evaluations")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath()
                    .<Map<String, Object>>getList("$")) {
                if (Boolean.TRUE.equals(e.get("base"))) {
                    bases.add(e);
                } else {
                    byStep.put(String.valueOf(((Number) e.get("step")).longValue()), e);
                }
            }
            assertThat(bases).hasSize(2);
            Map<String, Object> firstBase = bases.stream()
                    .filter(e -> !Boolean.TRUE.equals(e.get("currentBase")))
                    .findFirst()
                    .orElseThrow();
            Map<String, Object> currentBase = bases.stream()
                    .filter(e -> Boolean.TRUE.equals(e.get("currentBase")))
                    .findFirst()
                    .orElseThrow();
            assertThat(firstBase.get("runId")).isEqualTo(RunIds.of(first));
            assertThat(currentBase.get("runId")).isEqualTo(RunIds.of(second));

            // each base scored as its own model scores, directly computed
            Reference.Scores storiesScores = Reference.of(stories, valid, manager);
            Reference.Scores scratchScores = Reference.of(scratch, valid, manager);
            assertScores(firstBase, storiesScores, 4);
            assertScores(currentBase, scratchScores, 4);
            assertThat(scratchScores.loss()).isNotCloseTo(storiesScores.loss(), within(1e-3));

            // each checkpoint applied to its own version's base, and belonging to it
            assertThat(byStep.keySet()).containsExactlyInAnyOrder("1", "2", "3");
            assertThat(byStep.get("1").get("baseIdentity")).isEqualTo(firstBase.get("baseIdentity"));
            assertThat(byStep.get("1").get("currentBase")).isEqualTo(false);
            for (String step : List.of("2", "3")) {
                assertThat(byStep.get(step).get("baseIdentity")).isEqualTo(currentBase.get("baseIdentity"));
                assertThat(byStep.get(step).get("currentBase")).isEqualTo(true);
                Path folder = root.resolve("checkpoint-" + step);
                scratch.setAdapters(PeftAdapterFolder.load(folder, scratch, manager, false));
                assertScores(byStep.get(step), Reference.of(scratch, valid, manager), 4);
            }
            stories.setAdapters(PeftAdapterFolder.load(root.resolve("checkpoint-1"), stories, manager, false));
            assertScores(byStep.get("1"), Reference.of(stories, valid, manager), 4);

            // the best checkpoint beside the base it was scored over: one of the second model's (checkpoint-1's
            // adapters, drawn at random, take the first model far from its base), beside the second model's base
            JsonPath best = given().get("/recipes/" + recipe + "/best?metric=valid_loss")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            assertThat(number(byStep.get("1"), "loss")).isGreaterThan(number(byStep.get("2"), "loss"));
            assertThat(best.getLong("step")).isIn(2L, 3L);
            assertThat(best.getDouble("baseline")).isCloseTo(number(currentBase, "loss"), within(1e-12));
            assertThat(best.getString("summary"))
                    .startsWith(String.format(Locale.ROOT, "valid loss %.4f -> ", number(currentBase, "loss")));

            // on the topic: each base's scores once, under the run of the version that scored it
            assertThat(evaluations(recipe))
                    .filteredOn(e -> e.checkpointStep() == 0)
                    .allSatisfy(e -> assertThat(e.checksum()).isEqualTo(Evaluation.BASE))
                    .extracting(Evaluation::runId)
                    .containsExactlyInAnyOrder(RunIds.of(first), RunIds.of(second));
        }
    }

    /**
     * The database fails under the checkpoints reader while it asks whether an announcement is known: the reader's
     * query waits on a lock this test holds on the checkpoint table, and the test then terminates every connection
     * of the service (pg_terminate_backend, as an administrator or a failover would). The reader starts over from
     * the position the database holds: every checkpoint announced is scored, and none is dead-lettered.
     */
    @Test
    @Order(5)
    void aDatabaseFailureWhileCheckpointsAreAnnouncedLosesNone() throws Exception {
        Path models = SharedData.models();
        String recipe = "eval-db-" + UUID.randomUUID().toString().substring(0, 8);
        RecipeTopic.publish(Infrastructure.kafkaBootstrapServers(), loraOnStories(recipe, false));
        Llama2cTokenizer tokenizer = Llama2cTokenizer.read(models.resolve("stories260K/tok512.bin"), 512);
        List<EvalExample> valid = RealExamples.of(SharedData.shareGpt(), tokenizer, recipe, Split.VALID, 0, 4, 96);
        Path root = Path.of("target/eval-checkpoints", recipe).toAbsolutePath();
        List<CheckpointEvent> announcements = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm base = ModelSource.at(models.resolve("stories260K/stories260K.bin"))
                    .load(42, Precision.FLOAT32, manager);
            for (int step = 1; step <= 3; step++) {
                Checkpoints.lora(root.resolve("checkpoint-" + step), base, step, manager);
                announcements.add(Checkpoints.announce(recipe, step, root.resolve("checkpoint-" + step), "peft-lora"));
            }
        }
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            for (EvalExample example : valid) {
                send(producer, Topics.EVAL_EXAMPLES, example.key(), example);
            }
        }
        awaitScored(recipe, 1); // the base: the recipe's sets are complete

        long retriesBefore = stage.intake().workerState().retries();
        DatabaseEndpoint database = Infrastructure.database();
        try (Connection admin =
                DriverManager.getConnection(database.jdbcUrl(), database.username(), database.password())) {
            admin.setAutoCommit(false);
            try (Statement lock = admin.createStatement()) {
                lock.execute("lock table eval.checkpoint in access exclusive mode");
            }
            try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
                for (CheckpointEvent announcement : announcements) {
                    send(producer, Topics.CHECKPOINTS, recipe, announcement);
                }
            }
            await("the checkpoints reader asks the database whether an announcement is known")
                    .atMost(PATIENCE)
                    .until(EvalIT::readerInKnown);
            int terminated = 0;
            try (Statement terminate = admin.createStatement();
                    ResultSet killed = terminate.executeQuery("select pg_terminate_backend(pid) from pg_stat_activity"
                            + " where datname = current_database() and pid <> pg_backend_pid()"
                            + " and backend_type = 'client backend'")) {
                while (killed.next()) {
                    terminated += killed.getBoolean(1) ? 1 : 0;
                }
            }
            assertThat(terminated).as("the service's connections terminated").isPositive();
            admin.rollback(); // the lock goes with the transaction
        }

        // requests may meet a terminated connection once, before the pool lets it go
        await().atMost(PATIENCE)
                .ignoreExceptions()
                .until(
                        () -> checkpoints(recipe),
                        checkpoints -> checkpoints.size() == 4
                                && checkpoints.stream().allMatch(c -> "SCORED".equals(c.get("status"))));
        assertThat(stage.intake().workerState().retries())
                .as("the reader started over")
                .isGreaterThan(retriesBefore);
        assertThat(stage.intake().workerState().retrying()).isFalse();
        // A result is stored, then published from the outbox: the last one may still be on its way.
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(evaluations(recipe))
                        .filteredOn(Evaluation::scored)
                        .extracting(Evaluation::checkpointStep)
                        .containsExactlyInAnyOrder(0L, 1L, 2L, 3L));
        assertThat(TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                        .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                        .filter(letter -> recipe.equals(letter.recipeId())))
                .as("dead letters of " + recipe)
                .isEmpty();
    }

    /** Whether the checkpoints reader's thread is inside the JDBC driver under EvalStore.known. */
    private static boolean readerInKnown() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(thread -> thread.getKey().getName().equals("eval-checkpoints"))
                .map(thread -> List.of(thread.getValue()))
                .anyMatch(frames ->
                        frames.stream().anyMatch(f -> f.getClassName().startsWith("org.postgresql."))
                                && frames.stream()
                                        .anyMatch(f -> f.getClassName().equals(EvalStore.class.getName())
                                                && f.getMethodName().equals("known")));
    }

    /** An error answers an RFC 9457 problem detail: its kind, status, title and what went wrong this time. */
    @Test
    @Order(6)
    void anErrorIsAProblemDetail() {
        given().get("/recipes/anyone/best?metric=bleu")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:streamtune:problem:invalid-request"))
                .body("title", equalTo("Invalid request"))
                .body("status", equalTo(400))
                .body("detail", containsString("metric 'bleu': expected <split>_<measure>"));
        given().get("/evaluations/999999999/samples")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:streamtune:problem:not-found"))
                .body("status", equalTo(404))
                .body("detail", equalTo("no evaluation 999999999"));
    }

    private static void awaitScored(String recipe, int rows) {
        await().atMost(PATIENCE)
                .until(
                        () -> checkpoints(recipe),
                        checkpoints -> checkpoints.size() == rows
                                && checkpoints.stream()
                                        .allMatch(
                                                c -> List.of("SCORED", "FAILED").contains(c.get("status"))));
    }

    private static List<Map<String, Object>> checkpoints(String recipe) {
        return given().get("/recipes/" + recipe + "/checkpoints")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
    }

    private static void assertScores(Map<String, Object> row, Reference.Scores expected, int examples) {
        assertThat(((Number) row.get("examples")).intValue()).isEqualTo(examples);
        assertThat(((Number) row.get("tokens")).longValue()).isEqualTo(expected.tokens());
        assertThat(number(row, "loss")).isCloseTo(expected.loss(), within(1e-5 * expected.loss()));
        assertThat(number(row, "perplexity"))
                .isCloseTo(Math.exp(expected.loss()), within(1e-5 * Math.exp(expected.loss())));
        assertThat(number(row, "tokenAccuracy")).isCloseTo(expected.tokenAccuracy(), within(1e-12));
    }

    private static double number(Map<String, Object> row, String key) {
        return ((Number) row.get(key)).doubleValue();
    }

    private static long counter(String metrics, String recipe, String outcome) {
        return Math.round(metrics.lines()
                .filter(line -> line.startsWith("eval_examples_total{")
                        && line.contains("recipe=\"" + recipe + "\"")
                        && line.contains("outcome=\"" + outcome + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum());
    }

    static List<Evaluation> evaluations(String recipe) {
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.EVALUATIONS).stream()
                .map(r -> new EvaluationDeserializer().deserialize(r.topic(), r.value()))
                .filter(e -> recipe.equals(e.recipeId()))
                .toList();
    }

    static void send(KafkaProducer<String, byte[]> producer, String topic, String key, Event event) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, new EventSerializer<>().serialize(topic, event)))
                .get(30, TimeUnit.SECONDS);
    }

    /**
     * A LoRA recipe on stories260K (its base held in 4 bits when {@code fourBit}) with a validation set of 4 examples
     * of at most 96 tokens, scored 4 at a time, generating nothing.
     */
    private static Recipe loraOnStories(String id, boolean fourBit) {
        RecipeYaml recipe = RecipeYaml.withId(id).stories260K();
        if (fourBit) {
            recipe.model("load_in_4bit", true);
        }
        return recipe.data("format_type", "chatml")
                .data("max_seq_length", 96)
                .data("valid_size", 4)
                .data("test_size", 0)
                .training("per_device_eval_batch_size", 4)
                .lora("r", 4)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .generation("num_samples", 0)
                .parse("eval-it");
    }

    /** A model built from scratch over stories260K's tokenizer: another model than stories260K itself. */
    private static RecipeYaml fromScratch(String id) {
        return RecipeYaml.withId(id)
                .model("architecture", "llama")
                .model("hidden_size", 32)
                .model("num_hidden_layers", 2)
                .model("num_attention_heads", 4)
                .model("tokenizer", "stories260K");
    }

    /**
     * What the versions of a recipe share beyond their model: a LoRA validated on 4 examples of at most 96 tokens,
     * scored 4 at a time, generating nothing.
     */
    private static RecipeYaml versionOnStories(RecipeYaml model) {
        return model.data("format_type", "chatml")
                .data("max_seq_length", 96)
                .data("valid_size", 4)
                .data("test_size", 0)
                .training("per_device_eval_batch_size", 4)
                .training("seed", 7)
                .lora("r", 4)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .generation("num_samples", 0);
    }
}
