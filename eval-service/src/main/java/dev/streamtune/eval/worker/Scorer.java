package dev.streamtune.eval.worker;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.eval.checkpoint.CheckpointStatus;
import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvalStoreUnavailableException;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.eval.checkpoint.SampleRow;
import dev.streamtune.eval.checkpoint.ScoredCheckpointRow;
import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.score.CheckpointProblem;
import dev.streamtune.eval.score.GenerationScorer;
import dev.streamtune.eval.score.ScoringModels;
import dev.streamtune.eval.score.StopTokens;
import dev.streamtune.eval.score.TeacherForcedScorer;
import dev.streamtune.eval.set.EvalExampleRow;
import dev.streamtune.events.ConfinedPath;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.RunIds;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.GenerationSettings;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.NativeAllocator;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.LogContext;
import dev.streamtune.streams.Outgoing;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Scores checkpoints, one at a time per recipe, on its own thread (never on a consumer's or the HTTP event loop).
 * For a recipe whose eval sets are complete it picks, in order: the base model on any split whose set it has not
 * yet been scored on at the set's present size (so every score has its reference on the same examples); the newest
 * pending checkpoint, the older pending ones being recorded as skipped when it goes first; then the skipped ones,
 * newest first, so none is forgotten. Each scoring verifies the checkpoint's checksum, applies it, scores every
 * split, stores the evaluations and samples, and publishes them from the outbox. A checkpoint that cannot be scored
 * is an error evaluation; a checkpoint of a recipe not active here becomes one after the settle time (its recipe may
 * simply not have been read yet).
 */
public final class Scorer implements Runnable {

    private static final Logger LOG = Logger.getLogger(Scorer.class);
    private static final Duration TICK = Duration.ofSeconds(1);

    private final Supplier<Map<String, EvalSetWorker>> workers;
    private final Supplier<Boolean> recipesKnown;
    /** Why the stage refused a recipe, or null: asked each time, the stage owns that state. */
    private final Function<String, String> refusal;

    private final EvalStore store;
    private final ScoringModels models;
    private final EvalMetrics metrics;
    private final AcknowledgedPublisher publisher;
    private final EvalConfig config;
    /** Checkpoints are read under the checkpoint volume only: an announcement names any path it likes. */
    private final ConfinedPath checkpointRoot;

    private final Semaphore signal = new Semaphore(0);
    private volatile boolean running = true;
    private volatile String failure;

    Scorer(
            Supplier<Map<String, EvalSetWorker>> workers,
            Supplier<Boolean> recipesKnown,
            Function<String, String> refusal,
            EvalStore store,
            ScoringModels models,
            EvalMetrics metrics,
            AcknowledgedPublisher publisher,
            EvalConfig config) {
        this.workers = workers;
        this.recipesKnown = recipesKnown;
        this.refusal = refusal;
        this.store = store;
        this.models = models;
        this.metrics = metrics;
        this.publisher = publisher;
        this.config = config;
        this.checkpointRoot = new ConfinedPath(config.checkpointRoot(), "checkpoint root");
    }

    /** Something changed (examples stored, a checkpoint announced): look for work now. */
    public void wake() {
        signal.release();
    }

    public void stop() {
        running = false;
        wake();
    }

    /** The last failure of the database or Kafka while scoring, or null when the last round went through. */
    public String failure() {
        return failure;
    }

    @Override
    public void run() {
        // Evaluation never records gradients: PyTorch's grad mode is per thread and on in a new one, where it would
        // record every forward and refuse to load saved values into tensors that a method's code marks trainable.
        JniUtils.setGradMode(false);
        boolean reset = false;
        boolean scoredSinceRelease = false;
        while (running) {
            try {
                if (!reset) {
                    int again = store.resetScoring();
                    if (again > 0) {
                        LOG.infof(
                                "%d checkpoints were being scored when the service stopped; they are pending again",
                                again);
                    }
                    reset = true;
                }
                publishOutbox();
                failOrphans();
                boolean worked = false;
                for (EvalSetWorker worker : new TreeMap<>(workers.get()).values()) {
                    if (!running) {
                        break;
                    }
                    MDC.put(LogContext.RECIPE, worker.recipeId()); // one thread scores every recipe, in turn
                    try {
                        worked |= step(worker);
                    } finally {
                        MDC.remove(LogContext.RECIPE);
                    }
                }
                publishOutbox();
                countPending();
                failure = null;
                if (worked) {
                    scoredSinceRelease = true;
                } else {
                    if (scoredSinceRelease) {
                        // nothing left to score: the memory this thread's batches kept for the next one goes back
                        NativeAllocator.release();
                        scoredSinceRelease = false;
                    }
                    signal.tryAcquire(TICK.toMillis(), TimeUnit.MILLISECONDS);
                    signal.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                LOG.errorf(e, "scoring round failed (database or Kafka); trying again");
                try {
                    signal.tryAcquire(2, TimeUnit.SECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                reset = false; // a checkpoint left SCORING by the failure is pending again
            }
        }
    }

    /** One job for the recipe, if it has one; true when something was scored. */
    private boolean step(EvalSetWorker worker) {
        if (!worker.settled()) {
            return false;
        }
        Map<Split, Integer> sizes = worker.sizes();
        List<Split> splits = new ArrayList<>();
        for (Split split : List.of(Split.VALID, Split.TEST)) {
            if (sizes.getOrDefault(split, 0) > 0) {
                splits.add(split);
            }
        }
        if (splits.isEmpty()) {
            return false;
        }
        Recipe recipe = worker.recipe();
        ScoredCheckpointRow base = store.base(
                recipe.id(),
                worker.baseIdentity().key(),
                RunIds.of(recipe),
                worker.base().describe());
        List<Split> unscored = splits.stream()
                .filter(split -> !store.scoredOn(base.id, split, sizes.get(split)))
                .toList();
        if (!unscored.isEmpty()) {
            score(worker, base, unscored, sizes);
            return true;
        }
        List<ScoredCheckpointRow> pending = store.withStatus(recipe.id(), CheckpointStatus.PENDING);
        if (!pending.isEmpty()) {
            ScoredCheckpointRow newest = pending.get(0);
            for (ScoredCheckpointRow older : pending.subList(1, pending.size())) {
                store.status(
                        older.id,
                        CheckpointStatus.SKIPPED,
                        "step " + newest.step + " went first while the"
                                + " evaluator was behind; scored once the queue is empty");
                metrics.checkpoint(recipe.id(), "skipped");
            }
            score(worker, newest, splits, sizes);
            return true;
        }
        List<ScoredCheckpointRow> skipped = store.withStatus(recipe.id(), CheckpointStatus.SKIPPED);
        if (!skipped.isEmpty()) {
            score(worker, skipped.get(0), splits, sizes);
            return true;
        }
        return false;
    }

    private void score(EvalSetWorker worker, ScoredCheckpointRow row, List<Split> splits, Map<Split, Integer> sizes) {
        String recipeId = worker.recipeId();
        store.status(row.id, CheckpointStatus.SCORING, null);
        long started = System.nanoTime();
        List<EvalStore.Result> results;
        String problem = null;
        try {
            results = row.base()
                    ? scoreWith(models.base(recipeId, worker.base()), worker, row, splits, sizes)
                    : models.withCheckpoint(
                            recipeId,
                            worker.base(),
                            folder(row.location, checkpointRoot),
                            row.format,
                            row.checksum,
                            model -> scoreWith(model, worker, row, splits, sizes));
        } catch (CheckpointProblem e) {
            problem = e.getMessage();
            results = null;
        } catch (IOException e) {
            problem = "the recipe's base model cannot be loaded: " + e.getMessage();
            results = null;
        } catch (ScoringFailure e) {
            problem = e.getMessage();
            results = null;
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        if (problem != null) {
            LOG.warnf(
                    "recipe %s: checkpoint %s (step %d) cannot be scored: %s",
                    recipeId, row.checksum, row.step, problem);
            store.finish(
                    row.id,
                    errors(row, worker.baseIdentity().key(), splits, problem),
                    CheckpointStatus.FAILED,
                    problem);
            metrics.checkpoint(recipeId, "failed");
            return;
        }
        store.finish(row.id, results, CheckpointStatus.SCORED, null);
        metrics.scoring(recipeId, took);
        metrics.checkpoint(recipeId, row.base() ? "base" : "scored");
        if (!row.base()) {
            for (EvalStore.Result result : results) {
                EvaluationRow evaluation = result.evaluation();
                metrics.scored(
                        recipeId, evaluation.split, evaluation.loss, evaluation.perplexity, evaluation.tokenAccuracy);
            }
        }
        LOG.infof(
                "recipe %s: %s scored in %.1f s: %s",
                recipeId, row.base() ? "base model" : "step " + row.step, took.toMillis() / 1000.0, summary(results));
    }

    /** A failure inside the scoring of a checkpoint (the engine refused its tensors): the checkpoint's problem. */
    private static final class ScoringFailure extends RuntimeException {
        ScoringFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private List<EvalStore.Result> scoreWith(
            CausalLm model,
            EvalSetWorker worker,
            ScoredCheckpointRow row,
            List<Split> splits,
            Map<Split, Integer> sizes) {
        Recipe recipe = worker.recipe();
        int batchSize = batchSize(recipe);
        List<EvalStore.Result> results = new ArrayList<>();
        try (NDManager manager = Compute.newManager()) {
            for (Split split : splits) {
                long started = System.nanoTime();
                List<EvalExampleRow> examples = store.examples(recipe.id(), split, sizes.get(split));
                TeacherForcedScorer.Scores scores = new TeacherForcedScorer(model, models.precision(), batchSize)
                        .score(
                                examples.stream()
                                        .map(e -> new TeacherForcedScorer.Example(e.inputIds, e.labels))
                                        .toList(),
                                manager);
                List<GenerationScorer.Sample> samples = generate(model, worker, examples, batchSize, manager);
                EvaluationRow evaluation =
                        row(row, worker.baseIdentity().key(), split, examples.size(), scores.tokens());
                evaluation.loss = scores.loss();
                evaluation.perplexity = scores.perplexity();
                evaluation.tokenAccuracy = scores.tokenAccuracy();
                evaluation.generationMetrics = EvalStore.json(GenerationScorer.metrics(samples));
                evaluation.seconds = (System.nanoTime() - started) / 1e9;
                results.add(new EvalStore.Result(
                        evaluation, samples.stream().map(Scorer::sampleRow).toList()));
            }
        } catch (EvalStoreUnavailableException e) {
            // the database's failure, not the checkpoint's: the round is tried again and the checkpoint, left
            // SCORING, is pending again then
            throw e;
        } catch (RuntimeException e) {
            throw new ScoringFailure("scoring failed: " + e.getMessage(), e);
        }
        return results;
    }

    private List<GenerationScorer.Sample> generate(
            CausalLm model, EvalSetWorker worker, List<EvalExampleRow> examples, int batchSize, NDManager manager) {
        Recipe recipe = worker.recipe();
        GenerationSettings settings = recipe.generationConfig();
        int samples = settings != null && settings.numSamples() != null
                ? settings.numSamples()
                : config.generation().samples();
        List<GenerationScorer.Prompt> prompts = examples.stream()
                .filter(e -> e.promptTokens > 0 && e.promptTokens < model.maxPositions()) // a window with a prompt
                .limit(samples)
                .map(e -> new GenerationScorer.Prompt(e.exampleKey, e.inputIds, e.promptTokens, e.referenceResponse))
                .toList();
        if (prompts.isEmpty()) {
            return List.of();
        }
        StopTokens stops = StopTokens.of(
                worker.base().tokenizer(),
                recipe.dataConfig() == null ? null : recipe.dataConfig().formatType());
        return new GenerationScorer(model, worker.base().tokenizer(), stops, generationConfig(recipe, stops), batchSize)
                .generate(prompts, manager);
    }

    /** The recipe's generation settings with Hugging Face's meaning: greedy unless do_sample. */
    GenerationConfig generationConfig(Recipe recipe, StopTokens stops) {
        GenerationSettings s = recipe.generationConfig() != null
                ? recipe.generationConfig()
                : new GenerationSettings(null, null, null, null, null, null, null, null);
        boolean sampling = Boolean.TRUE.equals(s.doSample());
        int maxNewTokens = s.maxNewTokens() != null
                ? s.maxNewTokens()
                : config.generation().maxNewTokens();
        return new GenerationConfig(
                maxNewTokens,
                sampling ? (s.temperature() != null ? s.temperature() : RecipeDefaults.TEMPERATURE) : 0,
                sampling ? (s.topK() != null ? s.topK() : RecipeDefaults.TOP_K) : 0,
                sampling && s.topP() != null ? s.topP() : RecipeDefaults.TOP_P,
                s.repetitionPenalty() != null ? s.repetitionPenalty() : RecipeDefaults.REPETITION_PENALTY,
                stops.ids(),
                s.seed() != null ? s.seed() : RecipeModels.seed(recipe),
                stops.sequences());
    }

    private int batchSize(Recipe recipe) {
        TrainingConfig training = recipe.trainingConfig();
        return training != null && training.perDeviceEvalBatchSize() != null
                ? training.perDeviceEvalBatchSize()
                : config.batchSize();
    }

    /** @param baseIdentity the base the checkpoint was (to be) scored over; null when there is none */
    private static EvaluationRow row(
            ScoredCheckpointRow checkpoint, String baseIdentity, Split split, long examples, long tokens) {
        EvaluationRow row = new EvaluationRow();
        row.checkpointId = checkpoint.id;
        row.baseIdentity = baseIdentity;
        row.recipeId = checkpoint.recipeId;
        row.runId = checkpoint.runId;
        row.step = checkpoint.step;
        row.checksum = checkpoint.checksum;
        row.location = checkpoint.location;
        row.split = split.wireName();
        row.examples = examples;
        row.tokens = tokens;
        row.evaluatedAt = Instant.now();
        return row;
    }

    private static List<EvalStore.Result> errors(
            ScoredCheckpointRow checkpoint, String baseIdentity, List<Split> splits, String error) {
        List<EvalStore.Result> results = new ArrayList<>();
        for (Split split : splits.isEmpty() ? List.of(Split.VALID) : splits) {
            EvaluationRow row = row(checkpoint, baseIdentity, split, 0, 0);
            row.error = error;
            results.add(new EvalStore.Result(row, List.of()));
        }
        return results;
    }

    private static SampleRow sampleRow(GenerationScorer.Sample sample) {
        SampleRow row = new SampleRow();
        row.exampleKey = sample.exampleKey();
        row.prompt = sample.prompt();
        row.reference = sample.reference();
        row.generation = sample.generation();
        row.finish = sample.finish();
        row.generatedTokens = sample.generatedTokens();
        row.referenceTokens = sample.referenceTokens();
        row.exactMatch = sample.exactMatch();
        row.rougeL = sample.rougeL();
        row.tokenReduction = sample.tokenReduction();
        return row;
    }

    /**
     * A checkpoint's location as announced (a file URI, or a path), when it is under the checkpoint root once
     * {@code ..} and links are resolved; a location elsewhere is the checkpoint's problem, and nothing there is read.
     */
    static Path folder(String location, ConfinedPath checkpointRoot) throws CheckpointProblem {
        if (location == null || location.isBlank()) {
            throw new CheckpointProblem("the announcement carries no location");
        }
        Path folder;
        try {
            folder = location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
        } catch (RuntimeException e) {
            throw new CheckpointProblem(
                    "location " + location + " is neither a file URI nor a path: " + e.getMessage());
        }
        try {
            return checkpointRoot.confine(folder, location, "location");
        } catch (IllegalArgumentException e) {
            throw new CheckpointProblem(e.getMessage());
        }
    }

    /** Pending checkpoints of recipes not active here, announced longer ago than the settle time: errors. */
    private void failOrphans() {
        if (!recipesKnown.get()) {
            return;
        }
        Instant before = Instant.now().minus(config.settleAfter());
        for (ScoredCheckpointRow row : store.outside(workers.get().keySet(), CheckpointStatus.PENDING)) {
            if (row.receivedAt.isAfter(before)) {
                continue;
            }
            String why = refusal.apply(row.recipeId);
            String error = "recipe " + row.recipeId + " is not known to eval-service"
                    + (why != null
                            ? " (its recipe was refused: " + why + ")"
                            : " (never published on " + Topics.RECIPES + ", or retired)");
            store.finish(row.id, errors(row, null, List.of(), error), CheckpointStatus.FAILED, error);
            metrics.checkpoint(row.recipeId, "failed");
            LOG.warnf("checkpoint %s of step %d: %s", row.location, row.step, error);
        }
    }

    /** Publishes every stored evaluation not yet acknowledged, then marks them published. */
    void publishOutbox() {
        List<EvaluationRow> rows = store.unpublished();
        if (rows.isEmpty()) {
            return;
        }
        List<Outgoing> records = rows.stream()
                .map(row -> new Outgoing(Topics.EVALUATIONS, row.recipeId, event(row)))
                .toList();
        publisher.publish(records);
        store.published(rows.stream().map(row -> row.id).toList());
    }

    static Evaluation event(EvaluationRow row) {
        return new Evaluation(
                Evaluation.SCHEMA_VERSION,
                row.recipeId,
                row.runId,
                row.step,
                row.location,
                Split.fromWireName(row.split),
                row.examples,
                row.tokens,
                orNaN(row.loss),
                orNaN(row.perplexity),
                orNaN(row.tokenAccuracy),
                EvalStore.metrics(row.generationMetrics),
                row.evaluatedAt,
                row.checksum,
                row.error);
    }

    private static double orNaN(Double value) {
        return value == null ? Double.NaN : value;
    }

    private void countPending() {
        for (String recipeId : workers.get().keySet()) {
            metrics.pending(
                    recipeId,
                    store.count(recipeId, CheckpointStatus.PENDING) + store.count(recipeId, CheckpointStatus.SKIPPED));
        }
    }

    private static String summary(List<EvalStore.Result> results) {
        StringBuilder text = new StringBuilder();
        for (EvalStore.Result result : results) {
            EvaluationRow row = result.evaluation();
            text.append(String.format(
                    "%s loss %.4f ppl %.2f acc %.3f on %d examples; ",
                    row.split, row.loss, row.perplexity, row.tokenAccuracy, row.examples));
        }
        return text.toString();
    }
}
