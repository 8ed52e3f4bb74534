package dev.streamtune.lm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter): Adam moments with bias correction and weight decay decoupled from the gradient,
 * p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + wd * p). Like PyTorch's optimizers, the update runs with gradient
 * recording off (whatever the caller's mode) and in place.
 *
 * <p>The moments and the update arithmetic are in a wide dtype: float32 for 16-bit parameters (bfloat16 keeps 8
 * significant bits, which would round the second moment's small increments away); the parameter's own dtype
 * otherwise. A 16-bit parameter then receives p - lr * update computed wide and rounded once. No float32 master
 * copy of the parameters is kept: an update smaller than half a bfloat16 step of the weight is lost in that rounding,
 * as it is in PyTorch's AdamW on bfloat16 parameters.
 */
public final class AdamW {

    private static final NDIndex ALL = new NDIndex("...");

    private final List<NDArray> parameters;
    private final List<NDArray> firstMoments = new ArrayList<>();
    private final List<NDArray> secondMoments = new ArrayList<>();
    private final List<Boolean> decays = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager manager;
    private long step;

    /**
     * @param noDecay parameters exempt from weight decay (norms, biases, gates), as is the default
     */
    public AdamW(
            List<NDArray> parameters,
            List<NDArray> noDecay,
            double beta1,
            double beta2,
            double eps,
            double weightDecay,
            NDManager manager) {
        this(parameters, noDecay, beta1, beta2, eps, weightDecay, null, manager);
    }

    /**
     * @param stateDtype the moments' dtype for every parameter, at least as wide as each (float64 to check the wide
     *                   path on the CPU); null for each parameter's usual wide dtype ({@link Precision#of})
     */
    public AdamW(
            List<NDArray> parameters,
            List<NDArray> noDecay,
            double beta1,
            double beta2,
            double eps,
            double weightDecay,
            DataType stateDtype,
            NDManager manager) {
        this.parameters = List.copyOf(parameters);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.manager = manager;
        for (NDArray parameter : parameters) {
            DataType wide =
                    stateDtype == null ? Precision.of(parameter.getDataType()).wide() : stateDtype;
            if (wide.getNumOfBytes() < parameter.getDataType().getNumOfBytes()) {
                throw new IllegalArgumentException("optimiser state in " + wide + " is narrower than parameter "
                        + parameter.getName() + " in " + parameter.getDataType());
            }
            firstMoments.add(manager.zeros(parameter.getShape(), wide));
            secondMoments.add(manager.zeros(parameter.getShape(), wide));
            decays.add(noDecay.stream().noneMatch(p -> p == parameter));
        }
    }

    /**
     * One update with the parameters' accumulated gradients divided by {@code gradientDivisor} (the trainable-token
     * count of the optimiser step, when the losses were sums), then zeroes the gradients.
     */
    public void step(double learningRate, double gradientDivisor) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false); // torch.no_grad(): an in-place update of a leaf must not be recorded
        try {
            update(learningRate, gradientDivisor);
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    private void update(double learningRate, double gradientDivisor) {
        step++;
        double correction1 = 1 - Math.pow(beta1, step);
        double correction2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < parameters.size(); i++) {
            NDArray parameter = parameters.get(i);
            NDArray m = firstMoments.get(i);
            NDArray v = secondMoments.get(i);
            // Every temporary lives in this scope: DJL attaches a result to its left operand's manager, which for
            // the moments and parameters is the long-lived one.
            try (NDManager scope = manager.newSubManager()) {
                NDArray gradient = Compute.scoped(parameter.getGradient(), scope);
                if (parameter.getDataType() == m.getDataType()) {
                    updateInPlace(
                            parameter,
                            gradient,
                            m,
                            v,
                            decays.get(i),
                            learningRate,
                            gradientDivisor,
                            correction1,
                            correction2);
                    JniUtils.zeroGrad((PtNDArray) parameter);
                    continue;
                }
                // A parameter narrower than its moments: the update is computed on a wide copy, rounded once into
                // the parameter below. Casts under no-grad: toType is fine here.
                NDArray p = Compute.scoped(parameter.toType(m.getDataType(), false), scope);
                NDArray g = Compute.scoped(gradient.toType(m.getDataType(), false), scope)
                        .div(gradientDivisor);
                m.muli(beta1).addi(g.mul(1 - beta1));
                v.muli(beta2).addi(g.mul(g).muli(1 - beta2));
                NDArray mHat = Compute.scoped(m.div(correction1), scope);
                NDArray denominator =
                        Compute.scoped(v.div(correction2), scope).sqrt().add(eps);
                NDArray update = mHat.div(denominator);
                if (decays.get(i) && weightDecay > 0) {
                    update.addi(Compute.scoped(p.mul(weightDecay), scope));
                }
                // computed wide, rounded once into the parameter's dtype
                parameter.set(ALL, p.sub(update.muli(learningRate)).toType(parameter.getDataType(), false));
                JniUtils.zeroGrad((PtNDArray) parameter); // PyTorch accumulates gradients until they are zeroed
            }
        }
    }

    /**
     * The update of a parameter whose moments are in its own dtype, with the scalar factors folded so that each
     * element passes through as few native operations as possible (every one is a call through JNI and a pass over
     * the tensor; the parameter is rewritten once):
     * m <- beta1 m + ((1 - beta1) / d) g;  v <- beta2 v + ((1 - beta2) / d^2) g^2;
     * p <- p (1 - lr wd) - (lr / c1) m / (sqrt(v) / sqrt(c2) + eps), the same AdamW as {@link #update} in another
     * order of rounding (as PyTorch's, which also decays the parameter before the Adam step).
     */
    private void updateInPlace(
            NDArray parameter,
            NDArray gradient,
            NDArray m,
            NDArray v,
            boolean decay,
            double learningRate,
            double gradientDivisor,
            double correction1,
            double correction2) {
        NDManager scope = gradient.getManager();
        m.muli(beta1).addi(Compute.scoped(gradient.mul((1 - beta1) / gradientDivisor), scope));
        v.muli(beta2)
                .addi(Compute.scoped(gradient.square(), scope).muli((1 - beta2) / (gradientDivisor * gradientDivisor)));
        NDArray denominator =
                Compute.scoped(v.sqrt(), scope).muli(1 / Math.sqrt(correction2)).addi(eps);
        NDArray step = Compute.scoped(m.div(denominator), scope).muli(learningRate / correction1);
        if (decay && weightDecay > 0) {
            parameter.muli(1 - learningRate * weightDecay);
        }
        parameter.subi(step);
    }

    /**
     * The parameters Hugging Face's Trainer exempts from weight decay, by name: biases and norm weights; and JoLA's
     * gate log-alphas, whose decay would push every gate towards half-open instead of letting the sparsity penalty
     * decide.
     */
    public static List<NDArray> exemptFromDecay(List<NDArray> parameters) {
        List<NDArray> exempt = new ArrayList<>();
        for (NDArray parameter : parameters) {
            String name = parameter.getName() == null ? "" : parameter.getName();
            if (name.endsWith(".bias")
                    || name.endsWith("norm.weight")
                    || name.endsWith("ln_1.weight")
                    || name.endsWith("ln_2.weight")
                    || name.endsWith("ln_f.weight")
                    || name.endsWith(".log_g1")
                    || name.endsWith(".log_g2")) {
                exempt.add(parameter);
            }
        }
        return exempt;
    }

    public long steps() {
        return step;
    }

    /**
     * Writes the optimiser's state, everything a resumed run needs to continue exactly: the step count and both
     * moments of every parameter, named {@code exp_avg.<parameter>} and {@code exp_avg_sq.<parameter>} as in
     * PyTorch's state, in a safetensors file.
     */
    public void save(Path file) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (int i = 0; i < parameters.size(); i++) {
            String name = nameOf(i);
            tensors.put("exp_avg." + name, firstMoments.get(i));
            tensors.put("exp_avg_sq." + name, secondMoments.get(i));
        }
        Safetensors.write(
                file,
                tensors,
                Map.of(
                        "format",
                        "pt",
                        "optimizer",
                        "adamw",
                        "step",
                        Long.toString(step),
                        "betas",
                        beta1 + "," + beta2,
                        "eps",
                        Double.toString(eps),
                        "weight_decay",
                        Double.toString(weightDecay)));
    }

    /** Restores what {@link #save} wrote, for the same parameters (matched by name and shape). */
    public void restore(Path file) throws IOException {
        Map<String, String> metadata = Safetensors.header(file).metadata();
        if (!"adamw".equals(metadata.get("optimizer")) || metadata.get("step") == null) {
            throw new IOException(file + " is not an AdamW state file (metadata " + metadata + ")");
        }
        try (NDManager scope = manager.newSubManager()) {
            Map<String, NDArray> tensors = Safetensors.read(file, scope);
            boolean recording = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                for (int i = 0; i < parameters.size(); i++) {
                    String name = nameOf(i);
                    copyInto(firstMoments.get(i), tensors.get("exp_avg." + name), file, "exp_avg." + name);
                    copyInto(secondMoments.get(i), tensors.get("exp_avg_sq." + name), file, "exp_avg_sq." + name);
                }
            } finally {
                JniUtils.setGradMode(recording);
            }
            if (tensors.size() != 2 * parameters.size()) {
                throw new IOException(file + " holds state for " + tensors.size() / 2
                        + " parameters; this optimiser has " + parameters.size());
            }
        }
        step = Long.parseLong(metadata.get("step"));
    }

    private String nameOf(int index) {
        String name = parameters.get(index).getName();
        if (name == null || name.isEmpty()) {
            throw new IllegalStateException("parameter " + index + " has no name: optimiser state is saved by name");
        }
        return name;
    }

    private static void copyInto(NDArray target, NDArray source, Path file, String name) throws IOException {
        if (source == null || !source.getShape().equals(target.getShape())) {
            throw new IOException(file + ": " + name
                    + (source == null
                            ? " is missing"
                            : " has shape " + source.getShape() + ", expected " + target.getShape()));
        }
        target.set(new NDIndex("..."), source.toType(target.getDataType(), false));
    }
}
