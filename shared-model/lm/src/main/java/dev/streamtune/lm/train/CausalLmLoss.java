package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * Next-token cross-entropy as Hugging Face computes it: position t predicts label t+1, labels of -100 are ignored,
 * and the result is the sum over trainable tokens, so that the caller can divide by the trainable-token count of the
 * whole optimiser step (the correct normalisation under gradient accumulation).
 */
public final class CausalLmLoss {

    public static final int IGNORE_INDEX = -100;

    private CausalLmLoss() {
    }

    /** The loss summed over trainable tokens and their count. */
    public record Sum(NDArray loss, long tokens) {
    }

    /**
     * @param logits [batch, time, vocab]
     * @param labels [batch, time] int64, the input ids where trained and -100 elsewhere
     */
    public static Sum sum(NDArray logits, NDArray labels) {
        NDArray predicting = logits.get(new NDIndex(":, :-1, :"));
        NDArray targets = labels.get(new NDIndex(":, 1:")).toType(DataType.INT64, false);
        NDArray trained = targets.neq(IGNORE_INDEX);
        NDArray safeTargets = targets.mul(trained.toType(DataType.INT64, false)); // -100 -> 0, masked out below
        NDArray logProbs = predicting.logSoftmax(-1);
        NDArray picked = logProbs.gather(safeTargets.expandDims(-1), -1).squeeze(-1);
        NDArray mask = trained.toType(logits.getDataType(), false);
        long tokens = trained.toType(DataType.INT64, false).sum().getLong();
        return new Sum(picked.mul(mask).sum().neg(), tokens);
    }
}
