package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.lm.runtime.Compute;
import java.util.List;
import java.util.function.Supplier;

/**
 * Operations on accumulated gradients between the backward passes of a step and its optimiser update, all with
 * gradient recording off.
 */
public final class Gradients {

    private Gradients() {}

    /** The L2 norm of all gradients together. */
    public static double globalNorm(List<NDArray> parameters) {
        return noGrad(() -> {
            double squares = 0;
            for (NDArray parameter : parameters) {
                // the gradient and every result computed from it land on the parameter's long-lived manager: each
                // step would leave a parameter-sized square there
                try (NDManager scope = parameter.getManager().newSubManager()) {
                    NDArray gradient = Compute.scoped(parameter.getGradient(), scope);
                    squares += gradient.square()
                            .sum()
                            .toType(DataType.FLOAT64, false)
                            .getDouble();
                }
            }
            return Math.sqrt(squares);
        });
    }

    /**
     * Scales all gradients so that their global norm is at most {@code maxNorm} (torch.nn.utils.clip_grad_norm_:
     * factor maxNorm / (norm + 1e-6) when the norm exceeds it). Returns the norm before clipping.
     */
    public static double clipGlobalNorm(List<NDArray> parameters, double maxNorm) {
        double norm = globalNorm(parameters);
        if (norm > maxNorm) {
            scale(parameters, maxNorm / (norm + 1e-6));
        }
        return norm;
    }

    /** Multiplies every gradient in place (1 / trainable tokens of the step, to turn summed losses into a mean). */
    public static void scale(List<NDArray> parameters, double factor) {
        noGrad(() -> {
            for (NDArray parameter : parameters) {
                try (NDArray gradient = parameter.getGradient()) {
                    gradient.muli(factor);
                }
            }
            return null;
        });
    }

    /** Clears every accumulated gradient: micro-batches of a step that will not be taken are forgotten. */
    public static void zero(List<NDArray> parameters) {
        noGrad(() -> {
            for (NDArray parameter : parameters) {
                JniUtils.zeroGrad((PtNDArray) parameter);
            }
            return null;
        });
    }

    private static <T> T noGrad(Supplier<T> work) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return work.get();
        } finally {
            JniUtils.setGradMode(recording);
        }
    }
}
