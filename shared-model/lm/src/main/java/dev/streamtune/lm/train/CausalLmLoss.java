package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.runtime.Precision;

/**
 * Next-token cross-entropy as Hugging Face computes it: position t predicts label t+1, labels of -100 are ignored,
 * and the result is the sum over trainable tokens, so that the caller can divide by the trainable-token count of the
 * whole optimiser step (the correct normalisation under gradient accumulation). The log-softmax and the sum run in
 * the wide dtype, as Hugging Face's loss does ({@code logits.float()}): over a vocabulary of 100k+ entries a
 * bfloat16 log-sum-exp and sum would lose the loss's small differences.
 */
public final class CausalLmLoss {

    public static final int IGNORE_INDEX = -100;

    private CausalLmLoss() {
    }

    /** The loss summed over trainable tokens and their count. */
    public record Sum(NDArray loss, long tokens) {
    }

    /**
     * The loss with the logits' usual wide dtype ({@link Precision#of}): float32 for 16-bit logits, else their own.
     *
     * @param logits [batch, time, vocab]
     * @param labels [batch, time] int64, the input ids where trained and -100 elsewhere
     */
    public static Sum sum(NDArray logits, NDArray labels) {
        return sum(logits, labels, Precision.of(logits.getDataType()));
    }

    /** The loss, in {@code precision}'s wide dtype, of logits in its compute dtype. */
    public static Sum sum(NDArray logits, NDArray labels, Precision precision) {
        // Every position's log-probabilities, the last one's included (it predicts nothing: its target is ignored):
        // a slice of the logits without the last position would be copied to be normalised, and its gradient
        // scattered back into a tensor of the logits' size.
        long rows = labels.getShape().get(0);
        NDArray targets = NDArrays.concat(new NDList(
                labels.get(new NDIndex(":, 1:")).toType(DataType.INT64, false),
                labels.getManager().full(new Shape(rows, 1), IGNORE_INDEX, DataType.INT64)), 1);
        NDArray trained = targets.neq(IGNORE_INDEX);
        NDArray safeTargets = targets.mul(trained.toType(DataType.INT64, false)); // -100 -> 0, masked out below
        NDArray logProbs = precision.widen(logits).logSoftmax(-1); // a recorded cast: gradients reach the logits
        NDArray picked = logProbs.gather(safeTargets.expandDims(-1), -1).squeeze(-1);
        NDArray mask = trained.toType(precision.wide(), false);
        long tokens = trained.toType(DataType.INT64, false).sum().getLong();
        return new Sum(picked.mul(mask).sum().neg(), tokens);
    }
}
