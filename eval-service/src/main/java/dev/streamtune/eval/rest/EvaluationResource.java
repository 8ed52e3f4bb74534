package dev.streamtune.eval.rest;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.eval.checkpoint.SampleRow;
import dev.streamtune.eval.worker.EvalSetWorker;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** What the evaluator found: every evaluation of a recipe, its best checkpoint by a metric, and the generations. */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class EvaluationResource {

    /** An evaluation as users read it; {@code base} marks the base model's own scores (step 0). */
    public record EvaluationView(long id, String recipeId, String runId, long step, boolean base, String checksum,
                                 String location, String split, long examples, long tokens, Double loss,
                                 Double perplexity, Double tokenAccuracy, Map<String, Double> generationMetrics,
                                 String error, Double seconds, Instant evaluatedAt) {

        static EvaluationView of(EvaluationRow row) {
            return new EvaluationView(row.id, row.recipeId, row.runId, row.step, Evaluation.BASE.equals(row.checksum),
                    row.checksum, row.location, row.split, row.examples, row.tokens, row.loss, row.perplexity,
                    row.tokenAccuracy, EvalStore.metrics(row.generationMetrics), row.error, row.seconds, row.evaluatedAt);
        }
    }

    public record CheckpointView(long step, String runId, String checksum, String location, String format,
                                 String status, String detail, Instant receivedAt, Instant scoredAt) {
    }

    /**
     * The best checkpoint by a metric, beside the base model's value on the same examples, and a line saying so:
     * "valid loss 2.4100 -> 1.8700 (step 40)".
     */
    public record Best(String recipeId, String metric, long step, String runId, String checksum, String location,
                       double value, Double baseline, long examples, String summary) {
    }

    public record SampleView(String exampleKey, String prompt, String reference, String generation, String finish,
                             int generatedTokens, Integer referenceTokens, Boolean exactMatch, Double rougeL,
                             Double tokenReduction) {
    }

    public record SetsView(String recipeId, Map<Split, Integer> sizes, boolean complete) {
    }

    /** Metrics where higher is better; every other one (loss, perplexity) is better lower. */
    private static final Set<String> HIGHER_IS_BETTER = Set.of("token_accuracy", "exact_match", "rouge_l",
            "stopped_by_itself", "token_reduction");

    @Inject
    EvalStore store;

    @Inject
    EvalStage stage;

    @GET
    @Path("recipes/{id}/evaluations")
    public List<EvaluationView> evaluations(@PathParam("id") String recipeId) {
        List<EvaluationRow> rows = store.evaluations(recipeId);
        if (rows.isEmpty() && store.checkpoints(recipeId).isEmpty() && !active(recipeId)) {
            throw new NotFoundException("no evaluations of recipe " + recipeId + ", and it is not a recipe this service"
                    + " knows");
        }
        return rows.stream().map(EvaluationView::of).toList();
    }

    @GET
    @Path("recipes/{id}/checkpoints")
    public List<CheckpointView> checkpoints(@PathParam("id") String recipeId) {
        return store.checkpoints(recipeId).stream().map(row -> new CheckpointView(row.step, row.runId, row.checksum,
                row.location, row.format, row.status.name(), row.detail, row.receivedAt, row.scoredAt)).toList();
    }

    @GET
    @Path("recipes/{id}/sets")
    public SetsView sets(@PathParam("id") String recipeId) {
        EvalSetWorker worker = stage.runtime() == null ? null : stage.runtime().worker(recipeId);
        if (worker == null) {
            return new SetsView(recipeId, store.sizes(recipeId), false);
        }
        return new SetsView(recipeId, worker.sizes(), worker.settled());
    }

    /** The examples of a split's set in their order: evaluations on n examples use the first n of them. */
    @GET
    @Path("recipes/{id}/sets/{split}")
    public List<String> setKeys(@PathParam("id") String recipeId, @PathParam("split") String split) {
        Split which;
        try {
            which = Split.fromWireName(split);
        } catch (IllegalArgumentException e) {
            throw new NotFoundException("no split '" + split + "': valid or test");
        }
        return store.examples(recipeId, which, Integer.MAX_VALUE).stream().map(row -> row.exampleKey).toList();
    }

    /**
     * The best scored checkpoint of a recipe by {@code metric}: a split ({@code valid}, or {@code eval} as Hugging
     * Face names it, or {@code test}) and a measure (loss, perplexity, token_accuracy, or a generation metric such as
     * rouge_l), e.g. {@code valid_loss}.
     */
    @GET
    @Path("recipes/{id}/best")
    public Best best(@PathParam("id") String recipeId, @QueryParam("metric") @DefaultValue("valid_loss") String metric) {
        String name = metric.trim().toLowerCase(Locale.ROOT);
        int cut = name.indexOf('_');
        if (cut < 0) {
            throw new BadRequestException("metric '" + metric + "': expected <split>_<measure>, e.g. valid_loss,"
                    + " test_perplexity, valid_token_accuracy, valid_rouge_l");
        }
        String splitName = name.substring(0, cut).equals("eval") ? "valid" : name.substring(0, cut);
        if (!splitName.equals("valid") && !splitName.equals("test")) {
            throw new BadRequestException("metric '" + metric + "': the split is valid (or eval) or test");
        }
        String measure = name.substring(cut + 1);
        List<EvaluationRow> rows = store.evaluations(recipeId).stream()
                .filter(row -> row.error == null && row.split.equals(splitName)).toList();
        Comparator<EvaluationRow> order = Comparator.comparingDouble(row -> value(row, measure).orElse(Double.NaN));
        if (HIGHER_IS_BETTER.contains(measure)) {
            order = order.reversed();
        }
        EvaluationRow best = rows.stream().filter(row -> !Evaluation.BASE.equals(row.checksum))
                .filter(row -> value(row, measure).filter(v -> !v.isNaN()).isPresent())
                .min(order.thenComparingLong(row -> row.step)).orElse(null);
        if (best == null) {
            if (!rows.isEmpty() && rows.stream().allMatch(row -> value(row, measure).isEmpty())) {
                throw new BadRequestException("metric '" + metric + "': no evaluation has a measure " + measure
                        + " (loss, perplexity, token_accuracy, or one of the generation metrics)");
            }
            throw new NotFoundException("recipe " + recipeId + " has no scored checkpoint on " + splitName + " yet");
        }
        Double baseline = rows.stream().filter(row -> Evaluation.BASE.equals(row.checksum) && row.examples == best.examples)
                .findFirst().flatMap(row -> value(row, measure)).orElse(null);
        double value = value(best, measure).orElseThrow();
        String label = splitName + " " + measure.replace('_', ' ');
        String summary = baseline == null
                ? String.format(Locale.ROOT, "%s %.4f (step %d; the base model is not scored on these examples yet)",
                label, value, best.step)
                : String.format(Locale.ROOT, "%s %.4f -> %.4f (step %d)", label, baseline, value, best.step);
        return new Best(recipeId, metric, best.step, best.runId, best.checksum, best.location, value, baseline,
                best.examples, summary);
    }

    @GET
    @Path("evaluations/{id}/samples")
    public List<SampleView> samples(@PathParam("id") long evaluationId) {
        if (store.evaluation(evaluationId) == null) {
            throw new NotFoundException("no evaluation " + evaluationId);
        }
        return store.samples(evaluationId).stream().map(EvaluationResource::view).toList();
    }

    private static SampleView view(SampleRow row) {
        return new SampleView(row.exampleKey, row.prompt, row.reference, row.generation, row.finish,
                row.generatedTokens, row.referenceTokens, row.exactMatch, row.rougeL, row.tokenReduction);
    }

    private static Optional<Double> value(EvaluationRow row, String measure) {
        return switch (measure) {
            case "loss" -> Optional.ofNullable(row.loss);
            case "perplexity" -> Optional.ofNullable(row.perplexity);
            case "token_accuracy", "accuracy" -> Optional.ofNullable(row.tokenAccuracy);
            default -> Optional.ofNullable(EvalStore.metrics(row.generationMetrics).get(measure));
        };
    }

    private boolean active(String recipeId) {
        return stage.runtime() != null && stage.runtime().recipes().containsKey(recipeId);
    }
}
