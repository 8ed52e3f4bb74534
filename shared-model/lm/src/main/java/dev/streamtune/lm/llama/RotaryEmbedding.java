package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embeddings (Su et al.): pair i of a head is rotated by angle position * theta^(-2i/d). The cos
 * and sin tables are computed once, in double precision, for every position the model supports.
 */
final class RotaryEmbedding {

    private final RopeStyle style;
    private final int headDim;
    private final NDArray cos; // [maxPositions, headDim] for HALF, [maxPositions, headDim/2] for INTERLEAVED
    private final NDArray sin;

    RotaryEmbedding(
            RopeStyle style,
            int headDim,
            int maxPositions,
            double theta,
            RopeScaling scaling,
            DataType dtype,
            NDManager manager) {
        this.style = style;
        this.headDim = headDim;
        int half = headDim / 2;
        int width = style == RopeStyle.HALF ? headDim : half;
        double[] cosTable = new double[maxPositions * width];
        double[] sinTable = new double[maxPositions * width];
        for (int position = 0; position < maxPositions; position++) {
            for (int j = 0; j < width; j++) {
                int pair = j % half;
                double inverseFrequency = Math.pow(theta, -2.0 * pair / headDim);
                if (scaling != null) {
                    inverseFrequency = scaling.scale(inverseFrequency);
                }
                double angle = position * inverseFrequency;
                cosTable[position * width + j] = Math.cos(angle);
                sinTable[position * width + j] = Math.sin(angle);
            }
        }
        this.cos = manager.create(cosTable, new Shape(maxPositions, width)).toType(dtype, false);
        this.sin = manager.create(sinTable, new Shape(maxPositions, width)).toType(dtype, false);
    }

    /**
     * Rotates queries or keys.
     *
     * @param x         [batch, time, heads, headDim]
     * @param positions [batch or 1, time] (int64): the position of each token within its own document
     */
    NDArray apply(NDArray x, NDArray positions) {
        return apply(x, tables(positions));
    }

    /** The cos and sin rows of some positions, looked up once per forward pass and shared by q, k and every layer. */
    record Tables(NDArray cos, NDArray sin) {}

    /** Table rows for every (row, time) of {@code positions} [rows, time] -> [rows, time, 1, width]. */
    Tables tables(NDArray positions) {
        long rows = positions.getShape().get(0);
        long time = positions.getShape().get(1);
        long width = cos.getShape().get(1);
        NDArray flat = positions.reshape(-1);
        NDArray c = cos.get(flat);
        NDArray s = sin.get(flat);
        c.attach(positions.getManager()); // the lookup lands on the tables' manager; it belongs to the caller's scope
        s.attach(positions.getManager());
        return new Tables(c.reshape(rows, time, 1, width), s.reshape(rows, time, 1, width));
    }

    /** x [batch, time, heads, headDim] rotated by {@code tables} (broadcast over heads, and batch when rows = 1). */
    NDArray apply(NDArray x, Tables tables) {
        NDArray c = tables.cos();
        NDArray s = tables.sin();
        if (style == RopeStyle.HALF) {
            int half = headDim / 2;
            NDArray first = x.get(new NDIndex("..., :" + half));
            NDArray second = x.get(new NDIndex("..., " + half + ":"));
            NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1); // rotate_half
            return x.mul(c).add(rotated.mul(s));
        }
        Shape shape = x.getShape();
        NDArray pairs = x.reshape(shape.get(0), shape.get(1), shape.get(2), headDim / 2, 2);
        NDArray even = pairs.get(new NDIndex("..., 0"));
        NDArray odd = pairs.get(new NDIndex("..., 1"));
        NDArray outEven = even.mul(c).sub(odd.mul(s));
        NDArray outOdd = even.mul(s).add(odd.mul(c));
        return NDArrays.stack(new NDList(outEven, outOdd), -1).reshape(shape);
    }
}
