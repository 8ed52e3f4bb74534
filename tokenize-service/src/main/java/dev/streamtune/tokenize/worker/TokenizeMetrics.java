package dev.streamtune.tokenize.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The stage's accounting per recipe, as Prometheus counters, fed with the worker's counts once Kafka acknowledged
 * what they count: examples read are trained (in batches), evaluation examples, rejected, duplicates, skipped
 * (other recipes) or beyond the recipe's train_size, splitting drops the windows left with nothing to train ({@code window_dropped}, beside the
 * example's own outcome), and mixing adds copies and drops a subset ({@code tokenize_records_total}); training examples
 * after mixing per dataset, whose ratios are the realised proportions of the mix ({@code tokenize_mixed_total});
 * the evaluation examples carved out of training ones by the recipe's ratios ({@code tokenize_carved_total});
 * batches and tokens produced.
 */
@ApplicationScoped
public class TokenizeMetrics {

    private final MeterRegistry registry;

    public TokenizeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One of the worker's counts (see {@link TokenizeWorker}'s outcomes). */
    public void count(String recipeId, String outcome, String dataset, long n) {
        if (n <= 0) {
            return;
        }
        String data = dataset == null ? "" : dataset;
        switch (outcome) {
            case TokenizeWorker.MIXED ->
                Counter.builder("tokenize_mixed_total")
                        .description("training examples after mixing, per dataset")
                        .tag("recipe", recipeId)
                        .tag("dataset", data)
                        .register(registry)
                        .increment(n);
            case TokenizeWorker.CARVED_VALID -> carved(recipeId, "valid", data, n);
            case TokenizeWorker.CARVED_TEST -> carved(recipeId, "test", data, n);
            case TokenizeWorker.BATCHES ->
                Counter.builder("tokenize_batches_total")
                        .tag("recipe", recipeId)
                        .register(registry)
                        .increment(n);
            case TokenizeWorker.TRAINABLE_TOKENS -> tokens(recipeId, "trainable", n);
            case TokenizeWorker.REAL_TOKENS -> tokens(recipeId, "real", n);
            case TokenizeWorker.PADDING_TOKENS -> tokens(recipeId, "padding", n);
            case TokenizeWorker.BATCHED_EXAMPLES ->
                Counter.builder("tokenize_batched_examples_total")
                        .description("examples (windows and mixing copies included) carried by published batches")
                        .tag("recipe", recipeId)
                        .register(registry)
                        .increment(n);
            default ->
                Counter.builder("tokenize_records_total")
                        .description("examples per recipe by outcome")
                        .tag("recipe", recipeId)
                        .tag("outcome", outcome)
                        .tag("dataset", data)
                        .register(registry)
                        .increment(n);
        }
    }

    /** Beside the records: of the evaluation examples, those the recipe's own ratios carved out of training ones. */
    private void carved(String recipeId, String split, String dataset, long n) {
        Counter.builder("tokenize_carved_total")
                .description("training examples of the dataset the recipe's valid_ratio / test_ratio made evaluation"
                        + " examples, per split")
                .tag("recipe", recipeId)
                .tag("split", split)
                .tag("dataset", dataset)
                .register(registry)
                .increment(n);
    }

    private void tokens(String recipeId, String kind, long n) {
        Counter.builder("tokenize_tokens_total")
                .tag("recipe", recipeId)
                .tag("kind", kind)
                .register(registry)
                .increment(n);
    }
}
