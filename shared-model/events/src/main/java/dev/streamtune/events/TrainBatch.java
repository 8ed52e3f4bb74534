package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A ready training batch on {@code batches}, keyed by recipe id.
 *
 * @param sequenceNumber  strictly increasing per recipe, so the trainer can detect gaps and replays
 * @param trainableTokens labels that are not ignored, summed over the batch: the denominator of the
 *                        token-mean loss once summed over the batches of one optimiser step
 * @param exampleKeys     the examples ({@code recipeId:conversationId}) packed into this batch
 * @param sourceOffsets   per partition of {@code examples}, the highest offset whose example is in this batch
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainBatch(
        int schemaVersion,
        String recipeId,
        long sequenceNumber,
        int sequenceLength,
        List<PackedSequence> sequences,
        long trainableTokens,
        long totalTokens,
        List<String> exampleKeys,
        Map<Integer, Long> sourceOffsets,
        Instant createdAt) implements Event {

    public static final int SCHEMA_VERSION = 1;

    public TrainBatch {
        Objects.requireNonNull(recipeId, "recipeId");
        sequences = List.copyOf(Objects.requireNonNull(sequences, "sequences"));
        exampleKeys = exampleKeys == null ? List.of() : List.copyOf(exampleKeys);
        sourceOffsets = sourceOffsets == null ? Map.of() : Map.copyOf(sourceOffsets);
    }
}
