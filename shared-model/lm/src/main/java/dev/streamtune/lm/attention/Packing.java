package dev.streamtune.lm.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Where the documents of packed rows begin, as the tokenize service sends them: row b holds documents starting at
 * {@code documentStarts[b]} (ascending, the first one 0) and {@code lengths[b]} real tokens, then padding.
 *
 * <p>A token attends only to earlier tokens of its own document (a block-diagonal causal mask), and positions
 * restart at 0 with every document, so a packed row computes exactly what its documents would compute one by one.
 * Each padding token is a document of its own: it attends to itself only, which keeps its softmax finite (a row
 * of -inf would be NaN, and NaN would leak through 0 * NaN into the real tokens' values); its labels are ignored.
 */
public record Packing(int[][] documentStarts, int[] lengths) {

    public Packing {
        if (documentStarts.length != lengths.length) {
            throw new IllegalArgumentException(
                    documentStarts.length + " rows of document starts but " + lengths.length + " lengths");
        }
        for (int row = 0; row < documentStarts.length; row++) {
            int[] starts = documentStarts[row];
            if (starts.length == 0 || starts[0] != 0) {
                throw new IllegalArgumentException(
                        "row " + row + ": the first document must start at 0, got " + Arrays.toString(starts));
            }
            for (int i = 1; i < starts.length; i++) {
                if (starts[i] <= starts[i - 1] || starts[i] >= lengths[row]) {
                    throw new IllegalArgumentException("row " + row + ": document starts " + Arrays.toString(starts)
                            + " must ascend strictly and lie below the row's length " + lengths[row]);
                }
            }
        }
    }

    /** Rows with one document each, all {@code time} tokens long: plain causal attention. */
    public static Packing unpacked(int rows, int time) {
        int[][] starts = new int[rows][];
        int[] lengths = new int[rows];
        for (int row = 0; row < rows; row++) {
            starts[row] = new int[] {0};
            lengths[row] = time;
        }
        return new Packing(starts, lengths);
    }

    public int rows() {
        return lengths.length;
    }

    /**
     * The document each token belongs to, [rows][time]: 0, 1, ... for the documents and a distinct negative number
     * for each padding token.
     */
    public long[][] documentIds(int time) {
        long[][] ids = new long[rows()][time];
        for (int row = 0; row < rows(); row++) {
            int document = -1;
            int[] starts = documentStarts[row];
            for (int t = 0; t < time; t++) {
                if (t >= lengths[row]) {
                    ids[row][t] = -1L - t;
                    continue;
                }
                while (document + 1 < starts.length && starts[document + 1] <= t) {
                    document++;
                }
                ids[row][t] = document;
            }
        }
        return ids;
    }

    /** Each token's position within its own document, [rows][time] (padding counts on from the last document). */
    public long[][] positionIds(int time) {
        long[][] positions = new long[rows()][time];
        for (int row = 0; row < rows(); row++) {
            int document = 0;
            int[] starts = documentStarts[row];
            for (int t = 0; t < time; t++) {
                while (document + 1 < starts.length && starts[document + 1] <= t) {
                    document++;
                }
                positions[row][t] = t - starts[document];
            }
        }
        return positions;
    }

    /** Positions as a [rows, time] int64 tensor. */
    public NDArray positions(NDManager manager, int time) {
        return manager.create(positionIds(time)).toType(DataType.INT64, false);
    }

    /**
     * The additive block-diagonal causal mask, [rows, 1, time, time]: 0 where query t may attend key s (same
     * document, s <= t), -inf elsewhere.
     */
    public NDArray mask(NDManager manager, int time, DataType dtype) {
        long[][] ids = documentIds(time);
        float[] mask = new float[rows() * time * time];
        for (int row = 0; row < rows(); row++) {
            int base = row * time * time;
            for (int t = 0; t < time; t++) {
                for (int s = 0; s < time; s++) {
                    if (s > t || ids[row][s] != ids[row][t]) {
                        mask[base + t * time + s] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        return manager.create(mask, new Shape(rows(), 1, time, time)).toType(dtype, false);
    }
}
