package dev.streamtune.lm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.lm.runtime.Compute;
import java.util.Locale;

/**
 * The machine's float32 matrix-multiply rate through DJL's libtorch: the best of several square products of
 * {@code n} x {@code n} (2 n^3 FLOP each), the ceiling against which a training step's model FLOPs per second are
 * read. Prints one line.
 *
 * <pre>java ... dev.streamtune.lm.bench.MatmulPeak [n] [repeats]</pre>
 */
public final class MatmulPeak {

    private MatmulPeak() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        try (NDManager manager = Compute.newManager()) {
            NDArray a = manager.randomNormal(new Shape(n, n), DataType.FLOAT32);
            NDArray b = manager.randomNormal(new Shape(n, n), DataType.FLOAT32);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats + 2; i++) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray left = a.duplicate();
                    left.attach(scope);
                    long start = System.nanoTime();
                    NDArray product = left.matMul(b);
                    product.getFloat(0, 0); // wait for the result
                    double seconds = (System.nanoTime() - start) / 1e9;
                    if (i >= 2) {
                        best = Math.min(best, seconds);
                    }
                }
            }
            System.out.printf(
                    Locale.ROOT,
                    "djl matmul %d x %d float32 GFLOP/s %.1f  (best of %d, %d threads)%n",
                    n,
                    n,
                    2.0 * n * n * n / best / 1e9,
                    repeats,
                    JniUtils.getNumThreads());
        }
    }
}
