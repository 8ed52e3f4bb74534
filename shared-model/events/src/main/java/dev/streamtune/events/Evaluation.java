package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The scores of one checkpoint on one split, on {@code evaluations} keyed by recipe id. The trainer reads it for
 * early stopping; people read it to pick a checkpoint.
 *
 * @param loss              mean cross-entropy over the split's trainable tokens
 * @param tokenAccuracy     fraction of trainable tokens whose argmax prediction is the label
 * @param generationMetrics metrics of generated responses against the references (exact match, ROUGE-L...)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Evaluation(
        int schemaVersion,
        String recipeId,
        String runId,
        long checkpointStep,
        String checkpointLocation,
        Split split,
        long examples,
        long tokens,
        double loss,
        double perplexity,
        double tokenAccuracy,
        Map<String, Double> generationMetrics,
        Instant evaluatedAt) implements Event {

    public static final int SCHEMA_VERSION = 1;

    public Evaluation {
        Objects.requireNonNull(recipeId, "recipeId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(split, "split");
        generationMetrics = generationMetrics == null ? Map.of() : Map.copyOf(generationMetrics);
    }
}
