package dev.streamtune.eval.report;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.events.Evaluation;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which scored checkpoint of a recipe is best by a metric, beside the value of the base it was scored over (its
 * recipe version's base: another version's may be another model) on the same examples. The metric names a split
 * ({@code valid}, or {@code eval} as Hugging Face names it, or {@code test}) and a measure (loss, perplexity,
 * token_accuracy, or a generation metric such as rouge_l), e.g. {@code valid_loss}; loss and perplexity are better
 * lower, the others higher. Ties go to the earlier step.
 */
@ApplicationScoped
public class CheckpointRanking {

    /**
     * The best checkpoint by a metric, beside the base model's value on the same examples, and a line saying so:
     * "valid loss 2.4100 -> 1.8700 (step 40)".
     */
    public record Best(
            String recipeId,
            String metric,
            long step,
            String runId,
            String checksum,
            String location,
            double value,
            Double baseline,
            long examples,
            String summary) {}

    /** A metric as asked for ({@code name}) and what it means: the split and the measure. */
    public record Metric(String name, String split, String measure) {

        /** Reads {@code <split>_<measure>}; an {@link UnknownMetric} saying what is expected otherwise. */
        public static Metric parse(String metric) {
            String name = metric.trim().toLowerCase(Locale.ROOT);
            int cut = name.indexOf('_');
            if (cut < 0) {
                throw new UnknownMetric("metric '" + metric + "': expected <split>_<measure>, e.g. valid_loss,"
                        + " test_perplexity, valid_token_accuracy, valid_rouge_l");
            }
            String split = name.substring(0, cut).equals("eval") ? "valid" : name.substring(0, cut);
            if (!split.equals("valid") && !split.equals("test")) {
                throw new UnknownMetric("metric '" + metric + "': the split is valid (or eval) or test");
            }
            return new Metric(metric, split, name.substring(cut + 1));
        }
    }

    /** A metric nothing can be ranked by: the asker's mistake, said so they can correct it. */
    public static final class UnknownMetric extends RuntimeException {
        UnknownMetric(String message) {
            super(message);
        }
    }

    /** Measures where higher is better; every other one (loss, perplexity) is better lower. */
    private static final Set<String> HIGHER_IS_BETTER =
            Set.of("token_accuracy", "exact_match", "rouge_l", "stopped_by_itself", "token_reduction");

    private final EvalStore store;

    public CheckpointRanking(EvalStore store) {
        this.store = store;
    }

    /** The recipe's best scored checkpoint by the metric; empty while none is scored on its split. */
    public Optional<Best> best(String recipeId, Metric metric) {
        return best(recipeId, metric, store.evaluations(recipeId));
    }

    /** The best of these evaluations of a recipe (every split, the base's among them). */
    static Optional<Best> best(String recipeId, Metric metric, List<EvaluationRow> evaluations) {
        String measure = metric.measure();
        List<EvaluationRow> rows = evaluations.stream()
                .filter(row -> row.error == null && row.split.equals(metric.split()))
                .toList();
        Comparator<EvaluationRow> order =
                Comparator.comparingDouble(row -> value(row, measure).orElse(Double.NaN));
        if (HIGHER_IS_BETTER.contains(measure)) {
            order = order.reversed();
        }
        EvaluationRow best = rows.stream()
                .filter(row -> !Evaluation.BASE.equals(row.checksum))
                .filter(row -> value(row, measure).filter(v -> !v.isNaN()).isPresent())
                .min(order.thenComparingLong(row -> row.step))
                .orElse(null);
        if (best == null) {
            if (!rows.isEmpty()
                    && rows.stream().allMatch(row -> value(row, measure).isEmpty())) {
                throw new UnknownMetric("metric '" + metric.name() + "': no evaluation has a measure " + measure
                        + " (loss, perplexity, token_accuracy, or one of the generation metrics)");
            }
            return Optional.empty();
        }
        // its own base: the one it was scored over (a recipe version with another model has another), same examples
        Double baseline = rows.stream()
                .filter(row -> Evaluation.BASE.equals(row.checksum)
                        && Objects.equals(row.baseIdentity, best.baseIdentity)
                        && row.examples == best.examples)
                .findFirst()
                .flatMap(row -> value(row, measure))
                .orElse(null);
        double value = value(best, measure).orElseThrow();
        String label = metric.split() + " " + measure.replace('_', ' ');
        String summary = baseline == null
                ? String.format(
                        Locale.ROOT,
                        "%s %.4f (step %d; the base model is not scored on these examples yet)",
                        label,
                        value,
                        best.step)
                : String.format(Locale.ROOT, "%s %.4f -> %.4f (step %d)", label, baseline, value, best.step);
        return Optional.of(new Best(
                recipeId,
                metric.name(),
                best.step,
                best.runId,
                best.checksum,
                best.location,
                value,
                baseline,
                best.examples,
                summary));
    }

    private static Optional<Double> value(EvaluationRow row, String measure) {
        return switch (measure) {
            case "loss" -> Optional.ofNullable(row.loss);
            case "perplexity" -> Optional.ofNullable(row.perplexity);
            case "token_accuracy", "accuracy" -> Optional.ofNullable(row.tokenAccuracy);
            default ->
                Optional.ofNullable(EvalStore.metrics(row.generationMetrics).get(measure));
        };
    }
}
