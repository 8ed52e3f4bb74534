package dev.streamtune.tokenize.batch;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.pack.PackedRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Groups rows into {@link TrainBatch}es of {@code rowsPerBatch} rows, numbered from the recipe's next sequence
 * number. Packed rows are padded to the sequence length; unpacked rows (one example each) to the longest row of
 * their batch. Each batch carries its trainable and real token counts, the normaliser of a token-mean loss once
 * summed over an optimiser step's batches.
 */
public final class BatchAssembler {

    private final String recipeId;
    private final int rowsPerBatch;
    private final int sequenceLength;
    private final boolean packed;
    private final int padId;
    private final List<PackedRow> rows = new ArrayList<>();
    private final Function<String, InputOffset> sourceOf;
    private long nextSequenceNumber;

    /**
     * @param sourceOf where each example (by key) was read, for the batch's {@code sourceOffsets}; may answer null
     */
    public BatchAssembler(
            String recipeId,
            int rowsPerBatch,
            int sequenceLength,
            boolean packed,
            int padId,
            long nextSequenceNumber,
            Function<String, InputOffset> sourceOf) {
        this.recipeId = recipeId;
        this.rowsPerBatch = rowsPerBatch;
        this.sequenceLength = sequenceLength;
        this.packed = packed;
        this.padId = padId;
        this.nextSequenceNumber = nextSequenceNumber;
        this.sourceOf = sourceOf;
    }

    /** Adds rows; returns the batches they completed. */
    public List<TrainBatch> add(List<PackedRow> completed) {
        List<TrainBatch> batches = new ArrayList<>();
        for (PackedRow row : completed) {
            rows.add(row);
            if (rows.size() == rowsPerBatch) {
                batches.add(batch());
            }
        }
        return batches;
    }

    /** Emits the rows held as a last, smaller batch (a flush); none when there are none. */
    public List<TrainBatch> flush() {
        return rows.isEmpty() ? List.of() : List.of(batch());
    }

    public int pendingRows() {
        return rows.size();
    }

    public long nextSequenceNumber() {
        return nextSequenceNumber;
    }

    private TrainBatch batch() {
        int length = packed
                ? sequenceLength
                : rows.stream().mapToInt(PackedRow::used).max().orElse(0);
        List<PackedSequence> sequences = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<String> datasets = new ArrayList<>();
        long trainable = 0;
        long total = 0;
        for (PackedRow row : rows) {
            PackedSequence sequence = row.toSequence(length, padId);
            sequences.add(sequence);
            trainable += sequence.trainableTokens();
            total += sequence.length();
            for (TokenizedExample document : row.documents()) {
                keys.add(document.key());
                datasets.add(document.dataset());
            }
        }
        rows.clear();
        Map<Integer, Long> sourceOffsets = new TreeMap<>();
        for (String key : keys) {
            InputOffset source = sourceOf.apply(key);
            if (source != null) {
                sourceOffsets.merge(source.partition().partition(), source.offset(), Math::max);
            }
        }
        return new TrainBatch(
                TrainBatch.SCHEMA_VERSION,
                recipeId,
                nextSequenceNumber++,
                length,
                sequences,
                trainable,
                total,
                keys,
                sourceOffsets,
                Instant.now(),
                datasets);
    }
}
