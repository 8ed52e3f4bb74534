package dev.streamtune.lm.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The keys and values every layer has computed so far, so that generating a token costs one position's work
 * instead of the whole prefix's. Keys are stored after RoPE and before grouped-query heads are repeated:
 * [batch, cached, kvHeads, headDim] per layer.
 *
 * <p>Prompts of different lengths are left-padded: row b starts with {@code padding[b]} padding tokens that no
 * real token attends to, and its positions count from its first real token. A padding token attends to itself
 * alone, which keeps its softmax finite (see {@link Packing}).
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final int[] padding;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    /**
     * @param padding left-padding tokens at the start of each row (all zeros for prompts of equal length)
     * @param manager the cache's tensors live in a sub-manager of it, freed by {@link #close()}
     */
    public KvCache(int layers, int[] padding, NDManager manager) {
        this.manager = manager.newSubManager();
        this.padding = padding.clone();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    public int rows() {
        return padding.length;
    }

    /** Tokens cached per row, padding included. */
    public int length() {
        return length;
    }

    /** Positions of the next {@code time} tokens of every row, [rows, time] int64. */
    public NDArray positions(NDManager scope, int time) {
        long[][] positions = new long[rows()][time];
        for (int row = 0; row < rows(); row++) {
            for (int t = 0; t < time; t++) {
                positions[row][t] = Math.max(0, length + t - padding[row]);
            }
        }
        return scope.create(positions).toType(DataType.INT64, false);
    }

    /**
     * The additive mask of the next {@code time} tokens over every key, cached and new: [rows, 1, time, length + time].
     */
    public NDArray mask(NDManager scope, int time, DataType dtype) {
        int keys = length + time;
        float[] mask = new float[rows() * time * keys];
        for (int row = 0; row < rows(); row++) {
            for (int t = 0; t < time; t++) {
                int query = length + t;
                for (int s = 0; s < keys; s++) {
                    boolean visible = s <= query && (s >= padding[row] || s == query);
                    if (!visible) {
                        mask[(row * time + t) * keys + s] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        return scope.create(mask, new Shape(rows(), 1, time, keys)).toType(dtype, false);
    }

    /**
     * Appends a layer's new keys and values ([rows, time, kvHeads, headDim]) and returns all of them so far.
     * The returned arrays belong to the cache.
     */
    public NDList append(int layer, NDArray newKeys, NDArray newValues) {
        keys[layer] = extend(keys[layer], newKeys);
        values[layer] = extend(values[layer], newValues);
        return new NDList(keys[layer], values[layer]);
    }

    /** Called by the model once all layers have appended {@code time} tokens. */
    public void advance(int time) {
        length += time;
    }

    private NDArray extend(NDArray cached, NDArray fresh) {
        NDArray all = cached == null ? fresh.duplicate() : NDArrays.concat(new NDList(cached, fresh), 1);
        all.attach(manager);
        if (cached != null) {
            cached.close();
        }
        return all;
    }

    @Override
    public void close() {
        manager.close();
    }
}
