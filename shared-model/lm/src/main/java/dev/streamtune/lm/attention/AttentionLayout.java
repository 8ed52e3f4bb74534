package dev.streamtune.lm.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * What attention needs besides the tokens: each token's position ([rows or 1, time], int64) and the additive mask
 * (broadcastable to [batch, heads, time, keys]), for rows of one document, packed rows, or a generation step.
 */
public record AttentionLayout(NDArray positions, NDArray mask) {

    /** Rows of one document each ({@code packing} null: positions 0..time-1, causal mask) or packed rows. */
    public static AttentionLayout of(NDManager scope, int time, Packing packing, CausalMasks masks, DataType dtype) {
        return packing == null
                ? new AttentionLayout(scope.arange(0, time, 1, DataType.INT64).expandDims(0), masks.of(time))
                : new AttentionLayout(packing.positions(scope, time), packing.mask(scope, time, dtype));
    }

    /** The next {@code time} tokens of every row after what the cache holds. */
    public static AttentionLayout of(NDManager scope, int time, KvCache cache, DataType dtype) {
        return new AttentionLayout(cache.positions(scope, time), cache.mask(scope, time, dtype));
    }
}
