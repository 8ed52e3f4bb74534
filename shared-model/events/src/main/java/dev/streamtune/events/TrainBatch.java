package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
 * @param exampleDatasets the dataset of each of {@code exampleKeys}, in the same order (null where unknown; empty in
 *                        batches written before the field existed): what a checkpoint's lineage reports
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
        Instant createdAt,
        List<String> exampleDatasets)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    /** A batch's fields but its rows and their documents, written out: field names, numbers, a recipe id. */
    private static final int BATCH_ENVELOPE_BYTES = 1024;
    /**
     * A row's fields but its token arrays, and the key, dataset and start of one document of up to about 100
     * characters: each more document of a packed row adds its own.
     */
    private static final int ROW_ENVELOPE_BYTES = 256;

    /**
     * The size as sent of the largest batch of {@code rows} rows of {@code sequenceLength} tokens, one document
     * each: 16 bytes a token (input ids, labels and positions, each an int32 in base64), what Kafka's record size
     * limit is checked against before a recipe's batches are made.
     */
    public static long largestSize(int rows, int sequenceLength) {
        return BATCH_ENVELOPE_BYTES + (long) rows * (3 * TokenIds.wireLength(sequenceLength) + ROW_ENVELOPE_BYTES);
    }

    public TrainBatch {
        Objects.requireNonNull(recipeId, "recipeId");
        sequences = List.copyOf(Objects.requireNonNull(sequences, "sequences"));
        exampleKeys = exampleKeys == null ? List.of() : List.copyOf(exampleKeys);
        sourceOffsets = sourceOffsets == null ? Map.of() : Map.copyOf(sourceOffsets);
        exampleDatasets = exampleDatasets == null
                ? List.of()
                : Collections.unmodifiableList(
                        new ArrayList<>(exampleDatasets)); // datasets may be null: List.copyOf would refuse them
        if (!exampleDatasets.isEmpty() && exampleDatasets.size() != exampleKeys.size()) {
            throw new IllegalArgumentException(
                    exampleDatasets.size() + " example datasets for " + exampleKeys.size() + " example keys");
        }
    }

    /** A batch whose examples' datasets are not given. */
    public TrainBatch(
            int schemaVersion,
            String recipeId,
            long sequenceNumber,
            int sequenceLength,
            List<PackedSequence> sequences,
            long trainableTokens,
            long totalTokens,
            List<String> exampleKeys,
            Map<Integer, Long> sourceOffsets,
            Instant createdAt) {
        this(
                schemaVersion,
                recipeId,
                sequenceNumber,
                sequenceLength,
                sequences,
                trainableTokens,
                totalTokens,
                exampleKeys,
                sourceOffsets,
                createdAt,
                null);
    }
}
