package dev.streamtune.lm.jola;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Hard-Concrete gates (Louizos et al. 2018) with JoLA's constants: beta = 0.33, stretch to (l, r) = (-0.1, 1.1), then
 * clamp to [0, 1], so a gate can be exactly 0 (head unedited) or exactly 1.
 *
 * <ul>
 *   <li>training: u = (1 - 2 eps) U(0,1) + eps; s = sigmoid((ln u - ln(1 - u) + log_alpha) / beta);
 *       g = clamp(s (r - l) + l, 0, 1), with fresh noise at every call</li>
 *   <li>evaluation: g = clamp(sigmoid(log_alpha) (r - l) + l, 0, 1), which is 0 exactly when
 *       log_alpha <= ln(1/11) = -2.3979</li>
 *   <li>expected L0: clamp(sigmoid(log_alpha - beta ln(-l / r)), eps, 1 - eps) = sigmoid(log_alpha + 0.7913)</li>
 * </ul>
 * Every constant is a tensor made once (see DJL_NOTES: scalar arguments corrupt backward passes).
 */
final class HardConcrete {

    static final double BETA = 0.33;
    static final double LOW = -0.1;
    static final double HIGH = 1.1;
    static final double EPS = 1e-6;

    private final NDArray beta;
    private final NDArray low;
    private final NDArray width;
    private final NDArray zero;
    private final NDArray one;
    private final NDArray eps;
    private final NDArray oneMinusEps;
    private final NDArray noiseScale;
    private final NDArray l0Shift;

    private final DataType dtype;

    /** @param dtype the type the gates compute in (float32; float64 for gradient checks) */
    HardConcrete(NDManager manager, DataType dtype) {
        this.dtype = dtype;
        beta = constant(manager, BETA);
        low = constant(manager, LOW);
        width = constant(manager, HIGH - LOW);
        zero = constant(manager, 0);
        one = constant(manager, 1);
        eps = constant(manager, EPS);
        oneMinusEps = constant(manager, 1 - EPS);
        noiseScale = constant(manager, 1 - 2 * EPS);
        l0Shift = constant(manager, -BETA * Math.log(-LOW / HIGH));
    }

    private NDArray constant(NDManager manager, double value) {
        return manager.create(value).toType(dtype, false);
    }

    /**
     * @param scope the manager of the current forward pass: DJL attaches a result to its left operand's manager,
     *              so the computation starts from a copy of log_alpha made there (a differentiable add)
     */
    NDArray gate(NDArray logAlpha, boolean training, NDManager scope) {
        NDArray alpha = scope.zeros(logAlpha.getShape(), dtype).add(logAlpha);
        NDArray s;
        if (training) {
            NDArray u = scope.randomUniform(0f, 1f, logAlpha.getShape())
                    .toType(dtype, false)
                    .mul(noiseScale)
                    .add(eps);
            NDArray logit = u.log().sub(u.neg().add(one).log());
            s = logit.add(alpha).div(beta).getNDArrayInternal().sigmoid();
        } else {
            s = alpha.getNDArrayInternal().sigmoid();
        }
        return s.mul(width).add(low).maximum(zero).minimum(one);
    }

    /** Per gate, the probability that it is not zero. */
    NDArray expectedL0(NDArray logAlpha, NDManager scope) {
        return scope.zeros(logAlpha.getShape(), dtype)
                .add(logAlpha)
                .add(l0Shift)
                .getNDArrayInternal()
                .sigmoid()
                .maximum(eps)
                .minimum(oneMinusEps);
    }
}
