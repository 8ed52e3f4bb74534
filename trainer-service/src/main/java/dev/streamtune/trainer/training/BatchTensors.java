package dev.streamtune.trainer.training;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.lm.attention.Packing;
import java.util.List;

/**
 * A {@link TrainBatch} as the model takes it: token ids and labels [rows, time], and the packing (document starts
 * and lengths) from which the model builds each row's block-diagonal causal mask and per-document positions.
 * Everything is checked before any tensor exists, so that a batch that cannot be trained is refused whole, with
 * the reason, and never leaves half a step behind.
 */
public record BatchTensors(int[][] tokens, int[][] labels, Packing packing, long trainableTokens) {

    public static BatchTensors of(TrainBatch batch, int vocabSize, int maxPositions) {
        List<PackedSequence> sequences = batch.sequences();
        String name = "batch " + batch.sequenceNumber() + " of recipe " + batch.recipeId();
        if (sequences.isEmpty()) {
            throw new MalformedBatchException(name + " has no sequences");
        }
        int time = batch.sequenceLength();
        if (time < 2 || time > maxPositions) {
            throw new MalformedBatchException(
                    name + ": sequence length " + time + " outside 2.." + maxPositions + " (the model's positions)");
        }
        int rows = sequences.size();
        int[][] tokens = new int[rows][];
        int[][] labels = new int[rows][];
        int[][] starts = new int[rows][];
        int[] lengths = new int[rows];
        long trainable = 0;
        for (int row = 0; row < rows; row++) {
            PackedSequence sequence = sequences.get(row);
            if (sequence.inputIds().length() != time) {
                throw new MalformedBatchException(name + ", row " + row + ": "
                        + sequence.inputIds().length() + " tokens, expected the batch's sequence length " + time);
            }
            tokens[row] = sequence.inputIds().toArray();
            labels[row] = sequence.labels().toArray();
            for (int t = 0; t < time; t++) {
                int token = tokens[row][t];
                int label = labels[row][t];
                if (token < 0 || token >= vocabSize) {
                    throw new MalformedBatchException(name + ", row " + row + ", position " + t + ": token id " + token
                            + " outside the model's vocabulary of " + vocabSize);
                }
                if (label != PackedSequence.IGNORE_INDEX && (label < 0 || label >= vocabSize)) {
                    throw new MalformedBatchException(name + ", row " + row + ", position " + t + ": label " + label
                            + " is neither -100 nor a token id below " + vocabSize);
                }
                if (label != PackedSequence.IGNORE_INDEX) {
                    trainable++;
                }
            }
            starts[row] = sequence.documentStarts().stream()
                    .mapToInt(Integer::intValue)
                    .toArray();
            lengths[row] = Math.max(1, sequence.length());
        }
        Packing packing;
        try {
            packing = new Packing(starts, lengths);
        } catch (IllegalArgumentException e) {
            throw new MalformedBatchException(name + ": " + e.getMessage());
        }
        return new BatchTensors(tokens, labels, packing, trainable);
    }
}
