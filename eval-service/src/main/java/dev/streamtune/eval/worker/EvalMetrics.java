package dev.streamtune.eval.worker;

import dev.streamtune.eval.score.ScoringModels;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The evaluator's figures for Prometheus: the newest checkpoint's loss, perplexity and token accuracy per recipe and
 * split ({@code eval_loss}, {@code eval_perplexity}, {@code eval_token_accuracy}), how long scorings take
 * ({@code eval_seconds}), checkpoints waiting ({@code eval_pending_checkpoints}), checkpoints by outcome, the
 * eval-set accounting ({@code eval_examples_total}: stored + duplicate + beyond_bound + rejected + skipped = read), and
 * the models held in memory ({@code eval_models_held}).
 */
@ApplicationScoped
public class EvalMetrics {

    private final MeterRegistry registry;

    private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> pending = new ConcurrentHashMap<>();

    public EvalMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The scores of the newest scored checkpoint of a recipe on a split. */
    public void scored(String recipeId, String split, double loss, double perplexity, double tokenAccuracy) {
        gauge("eval_loss", "mean loss over trainable tokens of the newest scored checkpoint", recipeId, split)
                .set(loss);
        gauge("eval_perplexity", "perplexity of the newest scored checkpoint", recipeId, split)
                .set(perplexity);
        gauge("eval_token_accuracy", "token accuracy of the newest scored checkpoint", recipeId, split)
                .set(tokenAccuracy);
    }

    public void scoring(String recipeId, Duration took) {
        Timer.builder("eval_seconds")
                .description("time to score one checkpoint on every split, generations included")
                .tag("recipe", recipeId)
                .register(registry)
                .record(took);
    }

    public void checkpoint(String recipeId, String outcome) {
        Counter.builder("eval_checkpoints_total")
                .description("checkpoints by outcome: scored, failed, skipped")
                .tag("recipe", recipeId)
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    public void pending(String recipeId, long count) {
        pending.computeIfAbsent(recipeId, id -> {
                    AtomicLong value = new AtomicLong();
                    Gauge.builder("eval_pending_checkpoints", value, AtomicLong::get)
                            .description("checkpoints announced and not yet scored (pending or skipped)")
                            .tag("recipe", id)
                            .register(registry);
                    return value;
                })
                .set(count);
    }

    /**
     * The models the scorer holds in memory, read when scraped: with the cached bases' count beside the process's
     * memory, an operator sees what the service's memory goes to (and what {@code EVAL_CACHED_MODELS} costs).
     */
    public void modelsHeld(ScoringModels models) {
        Gauge.builder("eval_models_held", models, ScoringModels::held)
                .description("models held in memory for scoring: the cached base models, and a full checkpoint"
                        + " while it is scored")
                .strongReference(true)
                .register(registry);
    }

    public void examples(String recipeId, String outcome, String dataset, long n) {
        if (n > 0) {
            Counter.builder("eval_examples_total")
                    .description("eval-examples read per recipe by outcome")
                    .tag("recipe", recipeId)
                    .tag("outcome", outcome)
                    .tag("dataset", dataset == null ? "" : dataset)
                    .register(registry)
                    .increment(n);
        }
    }

    private AtomicReference<Double> gauge(String name, String description, String recipeId, String split) {
        return gauges.computeIfAbsent(name + "|" + recipeId + "|" + split, key -> {
            AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            Gauge.builder(name, value, AtomicReference::get)
                    .description(description)
                    .tag("recipe", recipeId)
                    .tag("split", split)
                    .register(registry);
            return value;
        });
    }
}
