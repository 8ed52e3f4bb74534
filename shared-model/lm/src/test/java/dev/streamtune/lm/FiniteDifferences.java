package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.runtime.Compute;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Autograd's gradients against central finite differences of the loss, on float64 models where the differences are
 * exact to ~1e-10: the check the gradient tests share.
 */
final class FiniteDifferences {

    private static final double STEP = 1e-6;

    private FiniteDifferences() {}

    /** Autograd's gradients of the loss against (L(p+h) - L(p-h)) / 2h for six entries of every parameter. */
    static void check(List<NDArray> parameters, Supplier<NDArray> loss, NDManager manager) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.get());
        }
        List<double[]> gradients = takeGradients(parameters);
        for (int i = 0; i < parameters.size(); i++) {
            check(parameters.get(i), gradients.get(i), loss, manager);
        }
    }

    /** Each parameter's accumulated gradient, read, then zeroed. */
    static List<double[]> takeGradients(List<NDArray> parameters) {
        List<double[]> gradients = new ArrayList<>();
        for (NDArray parameter : parameters) {
            NDArray gradient = parameter.getGradient();
            gradients.add(gradient.toDoubleArray());
            gradient.close();
            Compute.withoutGradients(() -> {
                JniUtils.zeroGrad((PtNDArray) parameter);
                return null;
            });
        }
        return gradients;
    }

    private static void check(NDArray parameter, double[] analytic, Supplier<NDArray> loss, NDManager manager) {
        double[] values = parameter.toDoubleArray();
        double largest = 0;
        for (int probe = 0; probe < 6; probe++) {
            int i = (int) ((probe * 7919L + 13) % values.length);
            double plus = lossWith(parameter, values, i, values[i] + STEP, loss, manager);
            double minus = lossWith(parameter, values, i, values[i] - STEP, loss, manager);
            double numeric = (plus - minus) / (2 * STEP);
            assertThat(Math.abs(numeric - analytic[i]))
                    .as("%s[%d]: autograd %s, finite difference %s", parameter.getName(), i, analytic[i], numeric)
                    .isLessThan(1e-7 + 1e-6 * Math.abs(numeric));
            largest = Math.max(largest, Math.abs(analytic[i]));
        }
        restore(parameter, values, manager);
        assertThat(largest)
                .as("%s has a gradient to check", parameter.getName())
                .isGreaterThan(1e-5);
    }

    private static double lossWith(
            NDArray parameter, double[] values, int index, double value, Supplier<NDArray> loss, NDManager manager) {
        double[] changed = values.clone();
        changed[index] = value;
        restore(parameter, changed, manager);
        try (NDManager scope = manager.newSubManager()) {
            NDArray result = loss.get();
            double out = result.getDouble();
            result.close();
            return out;
        }
    }

    private static void restore(NDArray parameter, double[] values, NDManager manager) {
        Compute.withoutGradients(() -> {
            parameter.set(new NDIndex("..."), manager.create(values, parameter.getShape()));
            return null;
        });
    }
}
