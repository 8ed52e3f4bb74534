package dev.streamtune.format.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The stage's accounting, per recipe: every conversation read is formatted, rejected (with a dead letter) or
 * skipped (a dataset the recipe does not read), so {@code in = formatted + rejected + skipped}; and render time per
 * recipe and template.
 */
@ApplicationScoped
public class FormatMetrics {

    private final MeterRegistry registry;

    public FormatMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void count(String recipeId, String template, String outcome, long n) {
        if (n > 0) {
            Counter.builder("format_records_total")
                    .description("conversations read per recipe, by outcome (in = formatted + rejected + skipped)")
                    .tag("recipe", recipeId)
                    .tag("template", template)
                    .tag("outcome", outcome)
                    .register(registry)
                    .increment(n);
        }
    }

    public void recipeRejected() {
        Counter.builder("format_recipes_rejected_total")
                .description("recipes that could not be activated")
                .register(registry)
                .increment();
    }

    public Timer renderTime(String recipeId, String template) {
        return Timer.builder("format_render_seconds")
                .description("time to render one conversation for a recipe")
                .tag("recipe", recipeId)
                .tag("template", template)
                .register(registry);
    }
}
