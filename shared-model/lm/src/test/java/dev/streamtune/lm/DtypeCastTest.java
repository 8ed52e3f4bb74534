package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.DifferentiableCast;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What DJL 0.35.1 on libtorch 2.7.1 does with dtype conversions under autograd, measured with float32 and float64
 * (the same question as bfloat16 and float32, which the CPU cannot run through DJL). Each case differentiates
 * L = sum(w * y * y) with y = cast(x), so dL/dx = 2 w y, computed in y's dtype and handed back in x's: the
 * gradients are compared exactly with that hand computation. If DJL's behaviour changes, these fail.
 */
class DtypeCastTest {

    /** 0.1 and 1/3 are not float32 numbers: a float64 -> float32 cast rounds them. */
    private static final double[] X = {1.5, -2.25, 0.0, 0.1, 1.0 / 3};

    private static final double[] W = {1, 2, 3, 4, 5};

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = Compute.newManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** toType runs under a NoGradGuard in DJL's JNI (torchTo): its result has no gradient function. */
    @Test
    void toTypeCutsTheGraphInBothDirectionsWithOrWithoutCopy() {
        for (DataType[] pair : pairs()) {
            DataType from = pair[0];
            DataType to = pair[1];
            for (boolean copy : new boolean[] {false, true}) {
                assertThatThrownBy(() -> differentiate(from, x -> x.toType(to, copy)))
                        .as("%s -> %s, copy %s", from, to, copy)
                        .hasMessageContaining("does not require grad and does not have a grad_fn");
            }
            assertThatThrownBy(() -> differentiate(from, x -> JniUtils.to((PtNDArray) x, to, x.getDevice())))
                    .hasMessageContaining("does not require grad and does not have a grad_fn");
        }
    }

    /** Multiplying by a one of a wider dtype promotes, and autograd records the multiplication: an exact up-cast. */
    @Test
    void typePromotionWidensDifferentiablyButNeverNarrows() {
        Measured widened =
                differentiate(DataType.FLOAT32, x -> x.mul(x.getManager().ones(new Shape(1), DataType.FLOAT64)));
        assertThat(widened.value().getDataType()).isEqualTo(DataType.FLOAT64);
        assertThat(widened.gradient().getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(widened.gradient().toFloatArray()).containsExactly(expectedFloat32Gradient(true));

        // The wider operand wins, whether the narrower one is a [1] tensor or a 0-d one: no way down by promotion.
        try (NDArray x = manager.create(X)) {
            assertThat(x.mul(manager.ones(new Shape(1), DataType.FLOAT32)).getDataType())
                    .isEqualTo(DataType.FLOAT64);
            assertThat(x.mul(manager.ones(new Shape(), DataType.FLOAT32)).getDataType())
                    .isEqualTo(DataType.FLOAT64);
        }
    }

    /**
     * The copy into a fresh tensor of the target dtype is recorded (CopyBackwards) in both directions; its values
     * are toType's, bit for bit (round to nearest on the way down), and the gradient comes back cast exactly.
     */
    @Test
    void copyingIntoAFreshTensorCastsDifferentiablyBothWays() {
        Measured down = differentiate(DataType.FLOAT64, x -> DifferentiableCast.to(x, DataType.FLOAT32));
        assertThat(down.value().getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(down.value().toFloatArray()).containsExactly(float32(X));
        assertThat(down.functionName()).contains("CopyBackwards");
        assertThat(down.gradient().getDataType()).isEqualTo(DataType.FLOAT64);
        float[] perElement = expectedFloat32Gradient(false);
        double[] widenedBack = new double[perElement.length];
        for (int i = 0; i < perElement.length; i++) {
            widenedBack[i] = perElement[i]; // computed in float32, handed back as float64
        }
        assertThat(down.gradient().toDoubleArray()).containsExactly(widenedBack);

        Measured up = differentiate(DataType.FLOAT32, x -> DifferentiableCast.to(x, DataType.FLOAT64));
        assertThat(up.value().getDataType()).isEqualTo(DataType.FLOAT64);
        assertThat(up.gradient().getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(up.gradient().toFloatArray()).containsExactly(expectedFloat32Gradient(true));

        // Same dtype: the very same array, so a computation whose dtypes already agree is untouched.
        try (NDArray x = manager.create(X)) {
            assertThat(DifferentiableCast.to(x, DataType.FLOAT64)).isSameAs(x);
        }
    }

    /**
     * The other recorded cast DJL exposes: a cumulative product over an appended axis of length 1, which takes an
     * output dtype. Also exact, but several times the cost of the copy (docs/PERFORMANCE.md), so the copy is the one
     * used.
     */
    @Test
    void cumulativeProductWithAnOutputDtypeIsAnotherExactButSlowerCast() {
        Measured down = differentiate(
                DataType.FLOAT64,
                x -> x.expandDims(-1).cumProd(-1, DataType.FLOAT32).squeeze(-1));
        assertThat(down.value().toFloatArray()).containsExactly(float32(X));
        double[] expected = new double[X.length];
        float[] perElement = expectedFloat32Gradient(false);
        for (int i = 0; i < X.length; i++) {
            expected[i] = perElement[i];
        }
        assertThat(down.gradient().toDoubleArray()).containsExactly(expected);
    }

    /** A 16-bit type DJL can name: float16 casts, and differentiates, on this CPU. */
    @Test
    void float16IsRepresentableAndCastsDifferentiably() {
        Measured half = differentiate(DataType.FLOAT32, x -> DifferentiableCast.to(x, DataType.FLOAT16));
        assertThat(half.value().getDataType()).isEqualTo(DataType.FLOAT16);
        assertThat(half.value().toType(DataType.FLOAT32, false).toFloatArray()[3])
                .isEqualTo(0.0999755859375f);
        assertThat(half.gradient().getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(half.gradient().toFloatArray()[0]).isEqualTo(3f); // 2 * 1 * 1.5, exact in float16
    }

    /**
     * bfloat16 cannot be named through DJL 0.35.1's JNI on any device: its dtype table (GetScalarTypeFromDType in
     * djl_pytorch_utils.h) stops at complex64 and falls through to a bare {@code throw;} with no exception in flight,
     * so libtorch is never reached and the process terminates. Measured in a child JVM, since it kills its process.
     * Should this test fail after a DJL upgrade, bfloat16 may have become usable: see Compute.precision.
     */
    @Test
    void bfloat16TerminatesTheProcessInDjlsDtypeTable() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(List.of(
                        java,
                        "-DOPT_OUT_TRACKING=true",
                        "-cp",
                        System.getProperty("java.class.path")
                                + File.pathSeparator
                                + System.getProperty("surefire.test.class.path", ""),
                        BfloatProbe.class.getName()))
                .redirectErrorStream(true)
                .start();
        assertThat(child.waitFor(120, TimeUnit.SECONDS))
                .as("child JVM finished")
                .isTrue();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(output).contains("float16 ok").doesNotContain("bfloat16 created");
        assertThat(output).contains("terminate called without an active exception");
        assertThat(child.exitValue()).isEqualTo(134); // 128 + SIGABRT
    }

    /** Run in a child JVM: float16 first (it works), then one bfloat16 tensor (it terminates the process). */
    public static final class BfloatProbe {
        public static void main(String[] args) {
            try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                manager.zeros(new Shape(2), DataType.FLOAT16);
                System.out.println("float16 ok");
                System.out.flush();
                manager.zeros(new Shape(2), DataType.BFLOAT16);
                System.out.println("bfloat16 created");
            }
        }
    }

    /** The value, gradient and gradient function of y = cast(x) under L = sum(w * y * y). */
    private record Measured(NDArray value, NDArray gradient, String functionName) {}

    private Measured differentiate(DataType from, Function<NDArray, NDArray> cast) {
        NDArray x = manager.create(X).toType(from, false);
        x.setRequiresGradient(true);
        NDArray y;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            y = cast.apply(x);
            NDArray w = manager.create(W).toType(y.getDataType(), false);
            collector.backward(w.mul(y).mul(y).sum());
        }
        return new Measured(y, x.getGradient(), JniUtils.getGradientFunctionNames((PtNDArray) y));
    }

    /**
     * dL/dx for float32 x or float32 y: 2 w y with w y rounded to float32 (autograd adds the two products' paths,
     * w y + w y, which doubles exactly). {@code wide}: y is float64, the product is formed in float64 and rounded once
     * on the way back.
     */
    private static float[] expectedFloat32Gradient(boolean wide) {
        float[] expected = new float[X.length];
        for (int i = 0; i < X.length; i++) {
            float y = (float) X[i];
            expected[i] = wide ? (float) (2 * (W[i] * (double) y)) : 2 * ((float) W[i] * y);
        }
        return expected;
    }

    private static float[] float32(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    private static DataType[][] pairs() {
        return new DataType[][] {{DataType.FLOAT32, DataType.FLOAT64}, {DataType.FLOAT64, DataType.FLOAT32}};
    }
}
