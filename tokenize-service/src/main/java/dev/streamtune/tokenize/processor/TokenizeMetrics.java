package dev.streamtune.tokenize.processor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Locale;

/**
 * The stage's accounting per recipe: examples read are trained (in batches), evaluation examples, rejected,
 * duplicates or skipped (other recipes); mixing adds copies and drops a subset; and tokens and batches produced.
 */
@ApplicationScoped
public class TokenizeMetrics {

    public enum Outcome { TRAIN, EVAL, REJECTED, DUPLICATE, SKIPPED, MIX_COPY, MIX_DROPPED }

    @Inject
    MeterRegistry registry;

    public void count(String recipeId, Outcome outcome, String dataset, long n) {
        if (n > 0) {
            Counter.builder("tokenize_records_total").description("examples per recipe by outcome")
                    .tag("recipe", recipeId).tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                    .tag("dataset", dataset == null ? "" : dataset).register(registry).increment(n);
        }
    }

    /** Training examples after mixing, per dataset: their ratios are the realised proportions of the mix. */
    public void mixed(String recipeId, String dataset, long n) {
        Counter.builder("tokenize_mixed_total").description("training examples after mixing, per dataset")
                .tag("recipe", recipeId).tag("dataset", dataset).register(registry).increment(n);
    }

    public void batch(String recipeId, long trainable, long total, long padded) {
        Counter.builder("tokenize_batches_total").tag("recipe", recipeId).register(registry).increment();
        Counter.builder("tokenize_tokens_total").tag("recipe", recipeId).tag("kind", "trainable").register(registry)
                .increment(trainable);
        Counter.builder("tokenize_tokens_total").tag("recipe", recipeId).tag("kind", "real").register(registry)
                .increment(total);
        Counter.builder("tokenize_tokens_total").tag("recipe", recipeId).tag("kind", "padding").register(registry)
                .increment(padded);
    }
}
