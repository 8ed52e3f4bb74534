package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.runtime.Precision;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Next-token cross-entropy as Hugging Face computes it: position t predicts label t+1, labels of -100 are ignored,
 * and the result is the sum over trainable tokens, so that the caller can divide by the trainable-token count of the
 * whole optimiser step (the correct normalisation under gradient accumulation). The log-softmax and the sum run in
 * the wide dtype, as Hugging Face's loss does ({@code logits.float()}): over a vocabulary of 100k+ entries a
 * bfloat16 log-sum-exp and sum would lose the loss's small differences.
 */
public final class CausalLmLoss {

    public static final int IGNORE_INDEX = -100;

    private CausalLmLoss() {}

    /** The loss summed over trainable tokens and their count. */
    public record Sum(NDArray loss, long tokens) {}

    /**
     * The loss with the logits' usual wide dtype ({@link Precision#of}): float32 for 16-bit logits, else their own.
     *
     * @param logits [batch, time, vocab]
     * @param labels [batch, time] int64, the input ids where trained and -100 elsewhere
     */
    public static Sum sum(NDArray logits, NDArray labels) {
        return sum(logits, labels, Precision.of(logits.getDataType()));
    }

    /**
     * Each target's weight when every sequence counts as one in the loss ({@code loss_normalization: sequence}),
     * aligned with the labels: 1 / (the trained targets of its sequence) where the label is trained, 0 elsewhere; and
     * how many sequences hold a trained target. A sequence is a document of a packed row ({@code packing}), or the
     * whole row without packing. The first label of a row is no target (nothing precedes it) and counts for none.
     *
     * <p>With these weights, {@link #sum(NDArray, NDArray, Precision, NDArray)} divided by the step's sequences is
     * the mean over sequences of each sequence's mean token loss: a short answer weighs as much as a long one, where
     * the default (token) normalisation weighs every trained token the same.
     */
    public record SequenceWeights(float[][] weights, long sequences) {

        public static SequenceWeights of(int[][] labels, Packing packing) {
            int rows = labels.length;
            float[][] weights = new float[rows][];
            long sequences = 0;
            int time = rows == 0 ? 0 : labels[0].length;
            long[][] documentIds = (packing == null ? Packing.unpacked(rows, time) : packing).documentIds(time);
            for (int row = 0; row < rows; row++) {
                long[] documents = documentIds[row];
                Map<Long, Integer> trained = new HashMap<>();
                for (int t = 1; t < time; t++) {
                    if (labels[row][t] != IGNORE_INDEX) {
                        trained.merge(documents[t], 1, Integer::sum);
                    }
                }
                weights[row] = new float[time];
                for (int t = 1; t < time; t++) {
                    if (labels[row][t] != IGNORE_INDEX) {
                        weights[row][t] = 1f / trained.get(documents[t]);
                    }
                }
                sequences += trained.size();
            }
            return new SequenceWeights(weights, sequences);
        }
    }

    /**
     * The loss with a weight per target ({@link SequenceWeights}): the sum over trained targets of weight x
     * cross-entropy, in {@code precision}'s wide dtype; {@code tokens} counts the trained targets as in
     * {@link #sum(NDArray, NDArray, Precision)}.
     *
     * @param weights [batch, time], aligned with {@code labels}
     */
    public static Sum sum(NDArray logits, NDArray labels, Precision precision, NDArray weights) {
        return weighted(logits, labels, precision, Objects.requireNonNull(weights, "weights"));
    }

    /** The loss, in {@code precision}'s wide dtype, of logits in its compute dtype. */
    public static Sum sum(NDArray logits, NDArray labels, Precision precision) {
        return weighted(logits, labels, precision, null);
    }

    /** The loss with each target weighted by {@code weights}, or by 1 when null. */
    private static Sum weighted(NDArray logits, NDArray labels, Precision precision, NDArray weights) {
        // Every position's log-probabilities, the last one's included (it predicts nothing: its target is ignored):
        // a slice of the logits without the last position would be copied to be normalised, and its gradient
        // scattered back into a tensor of the logits' size.
        NDArray targets = predictedBy(labels, IGNORE_INDEX, DataType.INT64);
        NDArray trained = targets.neq(IGNORE_INDEX);
        NDArray safeTargets = targets.mul(trained.toType(DataType.INT64, false)); // -100 -> 0, masked out below
        NDArray logProbs = precision.widen(logits).logSoftmax(-1); // a recorded cast: gradients reach the logits
        NDArray picked = logProbs.gather(safeTargets.expandDims(-1), -1).squeeze(-1);
        NDArray mask = trained.toType(precision.wide(), false);
        if (weights != null) {
            // shifted as the targets are: the weight of label t+1 goes with the position t that predicts it
            mask = mask.mul(predictedBy(weights, 0, precision.wide()));
        }
        long tokens = trained.toType(DataType.INT64, false).sum().getLong();
        return new Sum(picked.mul(mask).sum().neg(), tokens);
    }

    /**
     * A per-label tensor [batch, time] moved to the positions that predict each label: position t gets label t+1's
     * value, and the last position, which predicts nothing, {@code last}.
     */
    private static NDArray predictedBy(NDArray perLabel, double last, DataType dtype) {
        long rows = perLabel.getShape().get(0);
        return NDArrays.concat(
                new NDList(
                        perLabel.get(new NDIndex(":, 1:")).toType(dtype, false),
                        perLabel.getManager().full(new Shape(rows, 1), (float) last, dtype)),
                1);
    }
}
