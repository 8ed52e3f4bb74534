package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The control plane against a mock consumer of the recipes topic, one record at a time. */
class RecipeLifecycleTest {

    private static final TopicPartition RECIPES = new TopicPartition(Topics.RECIPES, 0);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final StageContext context = new StageContext(
            "echo-service",
            "echo",
            KafkaSettings.bootstrap("localhost:1"),
            new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
            config -> new MockConsumer<>("earliest"),
            Duration.ofMillis(1));

    /** What the workers did, in order, across threads. */
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    /** A worker reading nothing; it says when it starts and when it stops, and why. */
    final class IdleWorker extends RecipeStreamWorker {
        final Recipe recipe;
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(1);

        IdleWorker(StageContext context, Recipe recipe) {
            super(context, recipe.id(), "in");
            this.recipe = recipe;
        }

        @Override
        protected void starting() {
            events.add("starting " + recipe.modelConfig().tokenizer());
            started.countDown();
        }

        @Override
        protected void stopped(String retirement) {
            events.add("stopped " + recipe.modelConfig().tokenizer() + (retirement == null ? "" : ": " + retirement));
            ended.countDown();
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {}
    }

    private final List<String> started = new ArrayList<>();
    private final Map<String, IdleWorker> made = new HashMap<>();

    /** Runs recipes whose tokenizer is one of GPT-2's; refuses others, naming the field. */
    private final RecipeStage<IdleWorker> stage = new RecipeStage<>() {
        @Override
        public IdleWorker workerFor(Recipe recipe, StageContext ctx) {
            if (!recipe.modelConfig().tokenizer().startsWith("r50k_base")
                    && !recipe.modelConfig().tokenizer().startsWith("gpt2")) {
                throw new RecipeRejectedException(
                        "model_config.tokenizer",
                        "unknown tokenizer '" + recipe.modelConfig().tokenizer() + "'");
            }
            started.add(recipe.id());
            IdleWorker worker = new IdleWorker(ctx, recipe);
            made.put(recipe.modelConfig().tokenizer(), worker);
            return worker;
        }

        @Override
        public String describe(IdleWorker worker) {
            return "the worker for " + worker.recipe.modelConfig().tokenizer();
        }
    };

    private final WorkerPool<IdleWorker> pool = new WorkerPool<>("test");

    private static Recipe recipe(String name, String tokenizer) {
        return RecipeParser.parse("""
                name: %s
                model_config:
                  tokenizer: %s
                data_config:
                  format_type: chatml
                training_config:
                  finetuning_type: lora
                lora_config:
                  r: 8
                """.formatted(name, tokenizer), name + ".yaml")
                .recipe();
    }

    private static byte[] bytes(Recipe recipe) {
        return new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe);
    }

    private static ConsumerRecord<String, byte[]> at(long offset, String key, byte[] value) {
        return new ConsumerRecord<>(Topics.RECIPES, 0, offset, key, value);
    }

    private List<JsonNode> deadLetters() {
        return producer.history().stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .map(r -> {
                    try {
                        return JSON.readTree(r.value());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .toList();
    }

    @Test
    void recipesStartReplaceAndStopWorkersAndUnusableOnesBecomeDeadLetters() {
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(context, stage, pool);
        Recipe good = recipe("good", "r50k_base");
        Recipe bad = recipe("bad", "no-such-tokenizer");
        try {
            lifecycle.apply(at(0, good.id(), bytes(good)));
            lifecycle.apply(at(1, good.id(), bytes(good))); // the same version again: nothing happens
            lifecycle.apply(at(2, bad.id(), bytes(bad)));
            lifecycle.apply(at(3, "future", "{\"schemaVersion\":99}".getBytes(StandardCharsets.UTF_8)));

            assertThat(started).containsExactly(good.id());
            assertThat(pool.get(good.id())).isNotNull();
            assertThat(lifecycle.active()).containsOnlyKeys(good.id());
            List<JsonNode> letters = deadLetters();
            assertThat(letters).hasSize(2);
            assertThat(letters.get(0).get("recipeId").asText()).isEqualTo(bad.id());
            assertThat(letters.get(0).get("field").asText()).isEqualTo("model_config.tokenizer");
            assertThat(letters.get(0).get("reason").asText()).contains("unknown tokenizer 'no-such-tokenizer'");
            assertThat(letters.get(1).get("reason").asText())
                    .contains("recipe future", "recipes-0@3", "cannot be read");

            lifecycle.apply(at(4, good.id(), null)); // tombstone
            assertThat(pool.get(good.id())).isNull();
            assertThat(lifecycle.active()).isEmpty();
        } finally {
            pool.stopAll();
        }
    }

    @Test
    void aRecipeThatBecomesUnusableStopsTheWorkerOfItsEarlierVersion() {
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(context, stage, pool);
        Recipe first = recipe("same", "r50k_base");
        Recipe changed = new Recipe(
                first.schemaVersion(),
                first.id(),
                first.name(),
                new ModelConfig(null, null, null, null, null, "gone", null, null, null, null, null, null, null, null),
                first.dataConfig(),
                first.trainingConfig(),
                first.loraConfig(),
                first.jolaConfig(),
                first.createdAt());
        try {
            lifecycle.apply(at(0, first.id(), bytes(first)));
            lifecycle.apply(at(1, first.id(), bytes(changed)));

            assertThat(pool.get(first.id())).isNull();
            assertThat(deadLetters())
                    .singleElement()
                    .satisfies(
                            letter -> assertThat(letter.get("field").asText()).isEqualTo("model_config.tokenizer"));
        } finally {
            pool.stopAll();
        }
    }

    /**
     * A new version retires the earlier version's worker, naming the new one, and the new worker starts only once the
     * earlier one has stopped (a trainer's model is let go before the next one loads); a tombstone retires its worker.
     */
    @Test
    void aNewVersionRetiresTheEarlierWorkerBeforeItsOwnStarts() throws InterruptedException {
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(context, stage, pool);
        Recipe first = recipe("same", "r50k_base");
        Recipe second = withTokenizer(first, "gpt2");
        try {
            lifecycle.apply(at(0, first.id(), bytes(first)));
            made.get("r50k_base").started.await();
            lifecycle.apply(at(1, first.id(), bytes(second)));
            made.get("gpt2").started.await();
            lifecycle.apply(at(2, first.id(), null));
            made.get("gpt2").ended.await();
        } finally {
            pool.stopAll();
        }
        assertThat(events)
                .containsExactly(
                        "starting r50k_base",
                        "stopped r50k_base: recipe same was replaced by a new version: the worker for gpt2 takes over",
                        "starting gpt2",
                        "stopped gpt2: recipe same was deleted");
    }

    /**
     * What is on the topic before the end (as it was at the start) is history: each recipe's last record is carried
     * out once, so no worker starts for a version already replaced, nor for a recipe already deleted.
     */
    @Test
    void aStartCarriesOutOnlyTheLatestVersionOfEachRecipe() {
        MockConsumer<String, byte[]> consumer = recipesTopicEndingAt(5);
        Recipe kept = recipe("kept", "r50k_base");
        Recipe deleted = recipe("deleted", "r50k_base");
        StageContext oneConsumer = readingRecipesWith(consumer);
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(oneConsumer, stage, pool);
        consumer.schedulePollTask(() -> {
            consumer.addRecord(at(0, kept.id(), bytes(kept)));
            consumer.addRecord(at(1, deleted.id(), bytes(deleted)));
            consumer.addRecord(at(2, kept.id(), bytes(withTokenizer(kept, "gpt2"))));
            consumer.addRecord(at(3, deleted.id(), null));
            consumer.addRecord(at(4, kept.id(), bytes(withTokenizer(kept, "gpt2-xl"))));
        });
        consumer.schedulePollTask(lifecycle::stop);
        try {
            lifecycle.run();
            assertThat(started).containsExactly(kept.id());
            assertThat(pool.get(kept.id()).recipe.modelConfig().tokenizer()).isEqualTo("gpt2-xl");
            assertThat(lifecycle.active()).containsOnlyKeys(kept.id());
        } finally {
            pool.stopAll();
        }
    }

    private static Recipe withTokenizer(Recipe recipe, String tokenizer) {
        ModelConfig model = recipe.modelConfig();
        return new Recipe(
                recipe.schemaVersion(),
                recipe.id(),
                recipe.name(),
                new ModelConfig(
                        model.pretrainedModelNameOrPath(),
                        model.architecture(),
                        model.dtype(),
                        model.appliedModule(),
                        model.baseModelName(),
                        tokenizer,
                        model.device(),
                        model.cacheDir(),
                        model.hiddenSize(),
                        model.intermediateSize(),
                        model.numHiddenLayers(),
                        model.numAttentionHeads(),
                        model.numKeyValueHeads(),
                        model.maxPositionEmbeddings(),
                        model.quantizationConfig()),
                recipe.dataConfig(),
                recipe.trainingConfig(),
                recipe.loraConfig(),
                recipe.jolaConfig(),
                recipe.createdAt());
    }

    @Test
    void itIsCaughtUpOnceItHasReadToTheEndOfTheTopicAsItWasAtTheStart() throws InterruptedException {
        MockConsumer<String, byte[]> consumer = recipesTopicEndingAt(1);
        Recipe good = recipe("good", "r50k_base");
        StageContext oneConsumer = readingRecipesWith(consumer);
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(oneConsumer, stage, pool);
        boolean[] caughtUpBefore = new boolean[1];
        consumer.schedulePollTask(() -> {
            caughtUpBefore[0] = lifecycle.caughtUp();
            consumer.addRecord(at(0, good.id(), bytes(good)));
        });
        consumer.schedulePollTask(lifecycle::stop);
        try {
            lifecycle.run();
        } finally {
            pool.stopAll();
        }

        assertThat(caughtUpBefore[0]).isFalse();
        assertThat(lifecycle.caughtUp()).isTrue();
        assertThat(started).containsExactly(good.id());
    }

    /**
     * What is known once the recipes are: their workers, started. A reader of {@code caughtUp} (eval-service failing
     * the checkpoints of recipes it does not know) must never see the history read while its workers are still being
     * made, or it takes a known recipe for an unknown one.
     */
    @Test
    void theRecipesAreKnownOnlyOnceTheWorkersOfTheirHistoryAreStarted() {
        MockConsumer<String, byte[]> consumer = recipesTopicEndingAt(1);
        Recipe good = recipe("good", "r50k_base");
        StageContext oneConsumer = readingRecipesWith(consumer);
        List<Boolean> knownWhileMaking = new ArrayList<>();
        List<RecipeLifecycle<IdleWorker>> lifecycles = new ArrayList<>();
        RecipeStage<IdleWorker> watched = new RecipeStage<>() {
            @Override
            public IdleWorker workerFor(Recipe recipe, StageContext ctx) {
                knownWhileMaking.add(lifecycles.get(0).caughtUp());
                return stage.workerFor(recipe, ctx);
            }

            @Override
            public String describe(IdleWorker worker) {
                return stage.describe(worker);
            }
        };
        RecipeLifecycle<IdleWorker> lifecycle = new RecipeLifecycle<>(oneConsumer, watched, pool);
        lifecycles.add(lifecycle);
        consumer.schedulePollTask(() -> consumer.addRecord(at(0, good.id(), bytes(good))));
        consumer.schedulePollTask(lifecycle::stop);
        try {
            lifecycle.run();
        } finally {
            pool.stopAll();
        }

        assertThat(knownWhileMaking).containsExactly(false);
        assertThat(lifecycle.caughtUp()).isTrue();
        assertThat(started).containsExactly(good.id());
    }

    /** A reader of the recipes topic (one partition) whose end, as it was at the start, is {@code end}. */
    private static MockConsumer<String, byte[]> recipesTopicEndingAt(long end) {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updatePartitions(
                Topics.RECIPES, List.of(new PartitionInfo(Topics.RECIPES, 0, Node.noNode(), new Node[0], new Node[0])));
        consumer.updateBeginningOffsets(Map.of(RECIPES, 0L));
        consumer.updateEndOffsets(Map.of(RECIPES, end));
        return consumer;
    }

    /** The stage's context, its recipes read by {@code consumer}, its workers' consumers fresh mocks. */
    private StageContext readingRecipesWith(MockConsumer<String, byte[]> consumer) {
        return new StageContext(
                context.service(),
                context.stage(),
                context.kafka(),
                context.publisher(),
                config -> config.containsKey("group.id") ? new MockConsumer<>("earliest") : consumer,
                Duration.ofMillis(1));
    }
}
