package dev.streamtune.eval.report;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.eval.checkpoint.SampleRow;
import dev.streamtune.eval.worker.EvalSetWorker;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What the evaluator found, as users read it: a recipe's evaluations, its checkpoints and their status, its eval
 * sets, and the generations behind an evaluation. Read from the database, and from the running stage for what only
 * it knows (whether a recipe is active here, whether its sets are complete).
 */
@ApplicationScoped
public class EvaluationReports {

    /**
     * An evaluation as users read it; {@code base} marks a base model's own scores (step 0). {@code baseIdentity} is
     * the base the scores belong to (the base's own, or a checkpoint's applied to it): a recipe version that changes
     * the model, tokenizer, quantisation, template or generation settings has another, and a checkpoint is compared
     * with the base of its own identity. {@code currentBase}: the scores belong to the base of the recipe's current
     * version, the recipe's base as the API means it (its version's when the recipe is active here, else the newest
     * base scored).
     */
    public record EvaluationView(
            long id,
            String recipeId,
            String runId,
            long step,
            boolean base,
            String checksum,
            String location,
            String split,
            long examples,
            long tokens,
            Double loss,
            Double perplexity,
            Double tokenAccuracy,
            Map<String, Double> generationMetrics,
            String error,
            Double seconds,
            Instant evaluatedAt,
            String baseIdentity,
            boolean currentBase) {

        static EvaluationView of(EvaluationRow row, boolean currentBase) {
            return new EvaluationView(
                    row.id,
                    row.recipeId,
                    row.runId,
                    row.step,
                    Evaluation.BASE.equals(row.checksum),
                    row.checksum,
                    row.location,
                    row.split,
                    row.examples,
                    row.tokens,
                    row.loss,
                    row.perplexity,
                    row.tokenAccuracy,
                    EvalStore.metrics(row.generationMetrics),
                    row.error,
                    row.seconds,
                    row.evaluatedAt,
                    row.baseIdentity,
                    currentBase);
        }
    }

    /** A checkpoint and its status; {@code baseIdentity} tells a recipe's base rows (step 0, one per base) apart. */
    public record CheckpointView(
            long step,
            String runId,
            String checksum,
            String location,
            String format,
            String status,
            String detail,
            Instant receivedAt,
            Instant scoredAt,
            String baseIdentity) {}

    public record SampleView(
            String exampleKey,
            String prompt,
            String reference,
            String generation,
            String finish,
            int generatedTokens,
            Integer referenceTokens,
            Boolean exactMatch,
            Double rougeL,
            Double tokenReduction) {

        static SampleView of(SampleRow row) {
            return new SampleView(
                    row.exampleKey,
                    row.prompt,
                    row.reference,
                    row.generation,
                    row.finish,
                    row.generatedTokens,
                    row.referenceTokens,
                    row.exactMatch,
                    row.rougeL,
                    row.tokenReduction);
        }
    }

    public record SetsView(String recipeId, Map<Split, Integer> sizes, boolean complete) {}

    private final EvalStore store;
    private final EvalStage stage;

    public EvaluationReports(EvalStore store, EvalStage stage) {
        this.store = store;
        this.stage = stage;
    }

    /**
     * Every evaluation of the recipe, in step order; empty when there is none, and absent when the recipe is not
     * one this service knows (no evaluation, no checkpoint, not active).
     */
    public Optional<List<EvaluationView>> evaluations(String recipeId) {
        List<EvaluationRow> rows = store.evaluations(recipeId);
        if (rows.isEmpty() && store.checkpoints(recipeId).isEmpty() && !active(recipeId)) {
            return Optional.empty();
        }
        Predicate<EvaluationRow> ofCurrentBase = ofCurrentBase(recipeId, rows);
        return Optional.of(rows.stream()
                .map(row -> EvaluationView.of(row, ofCurrentBase.test(row)))
                .toList());
    }

    /**
     * Whether an evaluation belongs to the base of the recipe's current version: the active worker's base when the
     * recipe is active here; otherwise (retired, or not read yet after a restart) the newest base scored.
     */
    private Predicate<EvaluationRow> ofCurrentBase(String recipeId, List<EvaluationRow> rows) {
        EvalSetWorker worker = stage.runtime() == null ? null : stage.runtime().worker(recipeId);
        if (worker != null) {
            String current = worker.baseIdentity().key();
            return row -> current.equals(row.baseIdentity);
        }
        return rows.stream()
                .filter(row -> Evaluation.BASE.equals(row.checksum))
                .max(Comparator.comparingLong(row -> row.id))
                .<Predicate<EvaluationRow>>map(newest -> row -> Objects.equals(newest.baseIdentity, row.baseIdentity))
                .orElse(row -> false);
    }

    public List<CheckpointView> checkpoints(String recipeId) {
        return store.checkpoints(recipeId).stream()
                .map(row -> new CheckpointView(
                        row.step,
                        row.runId,
                        row.checksum,
                        row.location,
                        row.format,
                        row.status.name(),
                        row.detail,
                        row.receivedAt,
                        row.scoredAt,
                        row.baseIdentity))
                .toList();
    }

    /** Each split's size and whether the sets are complete (as the running worker says; not complete otherwise). */
    public SetsView sets(String recipeId) {
        EvalSetWorker worker = stage.runtime() == null ? null : stage.runtime().worker(recipeId);
        if (worker == null) {
            return new SetsView(recipeId, store.sizes(recipeId), false);
        }
        return new SetsView(recipeId, worker.sizes(), worker.settled());
    }

    /** The keys of a split's examples in their order: evaluations on n examples use the first n of them. */
    public List<String> setKeys(String recipeId, Split split) {
        return store.examples(recipeId, split, Integer.MAX_VALUE).stream()
                .map(row -> row.exampleKey)
                .toList();
    }

    /** The generations behind an evaluation; absent when there is no such evaluation. */
    public Optional<List<SampleView>> samples(long evaluationId) {
        if (store.evaluation(evaluationId) == null) {
            return Optional.empty();
        }
        return Optional.of(
                store.samples(evaluationId).stream().map(SampleView::of).toList());
    }

    private boolean active(String recipeId) {
        return stage.runtime() != null && stage.runtime().recipes().containsKey(recipeId);
    }
}
