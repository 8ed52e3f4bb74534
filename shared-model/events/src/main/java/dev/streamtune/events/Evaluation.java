package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
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
 * @param checksum          the checkpoint's checksum as its {@link CheckpointEvent} gave it ({@code base} for the
 *                          base model's own scores, step 0)
 * @param error             why the checkpoint could not be scored (a checksum mismatch, a missing or corrupt file, an
 *                          unknown recipe); the scores are then NaN and mean nothing. Null for a scored checkpoint.
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
        Instant evaluatedAt,
        String checksum,
        String error)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    /** The checksum of the base model's scores (step 0), which have no checkpoint. */
    public static final String BASE = "base";

    /** A scored checkpoint, as written before checksums and errors travelled with evaluations. */
    public Evaluation(
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
            Instant evaluatedAt) {
        this(
                schemaVersion,
                recipeId,
                runId,
                checkpointStep,
                checkpointLocation,
                split,
                examples,
                tokens,
                loss,
                perplexity,
                tokenAccuracy,
                generationMetrics,
                evaluatedAt,
                null,
                null);
    }

    /** Whether this carries scores rather than an error. */
    @JsonIgnore
    public boolean scored() {
        return error == null;
    }

    public Evaluation {
        Objects.requireNonNull(recipeId, "recipeId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(split, "split");
        generationMetrics = generationMetrics == null ? Map.of() : Map.copyOf(generationMetrics);
    }
}
