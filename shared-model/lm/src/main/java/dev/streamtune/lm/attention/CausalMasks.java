package dev.streamtune.lm.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * Additive causal masks, [time, time]: 0 where a position may attend (itself and earlier), -inf above the diagonal.
 * DJL has no triu, so each size is built once on the host and kept, in the model's dtype.
 */
public final class CausalMasks {

    private final NDManager manager;
    private final DataType dtype;
    private final Map<Integer, NDArray> masks = new HashMap<>();

    public CausalMasks(NDManager manager, DataType dtype) {
        this.manager = manager;
        this.dtype = dtype;
    }

    public synchronized NDArray of(int time) {
        return masks.computeIfAbsent(time, t -> {
            float[] mask = new float[t * t];
            for (int row = 0; row < t; row++) {
                for (int column = row + 1; column < t; column++) {
                    mask[row * t + column] = Float.NEGATIVE_INFINITY;
                }
            }
            return manager.create(mask, new Shape(t, t)).toType(dtype, false);
        });
    }
}
