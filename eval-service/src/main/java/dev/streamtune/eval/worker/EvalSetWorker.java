package dev.streamtune.eval.worker;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.score.BaseIdentity;
import dev.streamtune.eval.set.EvalExampleRow;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Keeps one recipe's validation and test sets from {@code eval-examples} in the database, each split bounded by the
 * recipe's {@code valid_size}/{@code test_size} (the service's bound without them). The examples of a poll and the
 * reading's new position are stored in one transaction once the poll's dead letters are acknowledged, and a restart
 * seeks to the stored position: nothing is lost and nothing read twice. {@code read = stored + duplicate +
 * beyond_bound + rejected + skipped (other recipes)}.
 *
 * <p>A set is complete when its splits hold their bounds, or when the stream has brought nothing new for the
 * settle time with nothing left to read: checkpoints are scored once it is, so the base and the checkpoints see the
 * same examples.
 */
public final class EvalSetWorker extends RecipeStreamWorker {

    static final String STORED = "stored";
    static final String DUPLICATE = "duplicate";
    static final String BEYOND_BOUND = "beyond_bound";
    static final String SKIPPED = "skipped";

    private final Recipe recipe;
    private final RecipeModels.Base base;
    private final BaseIdentity baseIdentity;
    private final EvalStore store;
    private final EvalMetrics metrics;
    private final Map<Split, Integer> bounds = new EnumMap<>(Split.class);
    private final Duration settleAfter;
    private final Runnable wake;
    private final EvalExampleDeserializer examples = new EvalExampleDeserializer();

    // State of one consumption run, rebuilt from the database when the worker (re)starts.
    private Set<String> keys;
    private Map<Split, Integer> sizes;
    private final List<EvalExampleRow> buffered = new ArrayList<>();
    private final Map<Integer, Long> next = new HashMap<>();
    private volatile Map<Split, Integer> stored = Map.of();
    private volatile long lastArrival = System.nanoTime();

    EvalSetWorker(
            StageContext context,
            Recipe recipe,
            RecipeModels.Base base,
            BaseIdentity baseIdentity,
            EvalStore store,
            EvalMetrics metrics,
            int defaultBound,
            Duration settleAfter,
            Runnable wake) {
        super(context, recipe.id(), Topics.EVAL_EXAMPLES);
        this.recipe = recipe;
        this.base = base;
        this.baseIdentity = baseIdentity;
        this.store = store;
        this.metrics = metrics;
        this.settleAfter = settleAfter;
        this.wake = wake;
        DataConfig data = recipe.dataConfig();
        bounds.put(Split.VALID, data != null && data.validSize() != null ? data.validSize() : defaultBound);
        bounds.put(Split.TEST, data != null && data.testSize() != null ? data.testSize() : defaultBound);
    }

    public Recipe recipe() {
        return recipe;
    }

    public RecipeModels.Base base() {
        return base;
    }

    /** The base this version of the recipe is scored against: its checkpoints are compared with that base's scores. */
    public BaseIdentity baseIdentity() {
        return baseIdentity;
    }

    /** Where the database says this recipe's reading of eval-examples stands. */
    @Override
    protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
        return store.seeks(recipeId(), assigned);
    }

    @Override
    protected void starting() {
        EvalStore.SetState state = store.setState(recipeId());
        keys = state.keys();
        sizes = new EnumMap<>(Split.class);
        sizes.putAll(state.sizes());
        stored = Map.copyOf(state.sizes());
        buffered.clear();
        next.clear();
        lastArrival = System.nanoTime();
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        next.merge(record.partition(), record.offset() + 1, Math::max);
        if (record.key() != null && !record.key().startsWith(recipeId() + ":")) {
            counts().count(SKIPPED, null);
            return;
        }
        EvalExample example = examples.deserialize(record.topic(), record.value());
        if (example == null || !recipeId().equals(example.recipeId())) {
            counts().count(SKIPPED, null);
            return;
        }
        lastArrival = System.nanoTime();
        check(example);
        if (!keys.add(example.key())) {
            counts().count(DUPLICATE, example.dataset());
            return;
        }
        int size = sizes.getOrDefault(example.split(), 0);
        if (size >= bounds.get(example.split())) {
            counts().count(BEYOND_BOUND, example.dataset());
            return;
        }
        EvalExampleRow row = new EvalExampleRow();
        row.recipeId = recipeId();
        row.exampleKey = example.key();
        row.split = example.split().wireName();
        row.position = size;
        row.dataset = example.dataset();
        row.conversationId = example.conversationId();
        row.inputIds = example.inputIds().toArray();
        row.labels = example.labels().toArray();
        row.promptTokens = example.promptTokens();
        row.referenceResponse = example.referenceResponse();
        row.receivedAt = Instant.now();
        sizes.put(example.split(), size + 1);
        buffered.add(row);
        counts().count(STORED, example.dataset());
    }

    /** What makes an example unusable: a dead letter naming the field. */
    private void check(EvalExample example) {
        if (example.split() == Split.TRAIN) {
            throw new IllegalArgumentException(
                    "field split: a training example on " + Topics.EVAL_EXAMPLES + " (expected valid or test)");
        }
        int length = example.inputIds().length();
        if (length == 0) {
            throw new IllegalArgumentException("field inputIds: empty (expected at least one token)");
        }
        // 0 is a later window of a conversation split to fit the context, starting inside the response: scored
        // teacher-forced like any other window, never generated from (it has no prompt)
        if (example.promptTokens() < 0 || example.promptTokens() > length) {
            throw new IllegalArgumentException("field promptTokens: " + example.promptTokens() + " (expected 0.."
                    + length + ", the example's length)");
        }
        if (length > base.model().maxPositions()) {
            throw new IllegalArgumentException(
                    "field inputIds: " + length + " tokens, more than the model's context of "
                            + base.model().maxPositions());
        }
        int vocabulary = base.model().vocabSize();
        for (int id : example.inputIds().toArray()) {
            if (id < 0 || id >= vocabulary) {
                throw new IllegalArgumentException(
                        "field inputIds: token id " + id + " outside the model's vocabulary of " + vocabulary);
            }
        }
    }

    /** The poll's dead letters are acknowledged: store its examples and the reading's position together. */
    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        if (!buffered.isEmpty() || !next.isEmpty()) {
            store.storeExamples(recipeId(), List.copyOf(buffered), Map.copyOf(next), Topics.EVAL_EXAMPLES);
            boolean grew = !buffered.isEmpty();
            buffered.clear();
            next.clear();
            stored = Map.copyOf(sizes);
            if (grew) {
                wake.run();
            }
        }
        counted.forEach((key, n) -> metrics.examples(recipeId(), key.outcome(), key.dataset(), n));
    }

    /** Each split's stored size. */
    public Map<Split, Integer> sizes() {
        return stored;
    }

    /** Whether the sets are complete: full, or quiet for the settle time with nothing left to read. */
    public boolean settled() {
        Map<Split, Integer> current = stored;
        boolean full = current.getOrDefault(Split.VALID, 0) >= bounds.get(Split.VALID)
                && current.getOrDefault(Split.TEST, 0) >= bounds.get(Split.TEST);
        if (full) {
            return true;
        }
        boolean quiet = System.nanoTime() - lastArrival > settleAfter.toNanos();
        return quiet && workerState().lag() == 0 && workerState().state() == State.RUNNING;
    }

    /** How long until the sets may settle by quiet: the scorer looks again then. */
    public Duration untilSettled() {
        return Duration.ofNanos(Math.max(0, settleAfter.toNanos() - (System.nanoTime() - lastArrival)));
    }
}
