package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import java.util.function.Supplier;

/**
 * DoRA (Liu et al. 2024) as PEFT's {@code DoraLinearVariant}: a magnitude m [out], initialised to the row norms of W,
 * and y = (m / n) (W + s B A) x + b, where n = ||W + s B A|| per output row is treated as a constant (detached), as
 * in the paper and PEFT. With dropout PEFT applies the rescaling to the dropped input:
 * y = W x + b + (m/n - 1) W x' + (m/n) s B A x', x' = dropout(x); this class computes exactly that.
 */
final class DoraVariant implements LoraVariant {

    private final NDArray scale;
    private final NDArray one;

    /** @param scale s and {@code one} 1, as tensors of the adapters' type (constants must be torch-owned) */
    DoraVariant(NDArray scale, NDArray one) {
        this.scale = scale;
        this.one = one;
    }

    /** The initial magnitude, the row norms of the weight (B = 0: the norms of W itself). */
    @Override
    public LoraWeights init(LoraWeights fresh, Supplier<NDArray> baseWeight, NDManager manager) {
        NDArray norms = rowNorms(baseWeight.get());
        norms.attach(manager);
        return new LoraWeights(fresh.a(), fresh.b(), norms);
    }

    @Override
    public void check(String module, LoraWeights loaded) {
        if (loaded.magnitude() == null) {
            throw new IllegalArgumentException("module " + module + " lacks the DoRA magnitude");
        }
    }

    @Override
    public NDArray forward(
            LoraWeights weights,
            NDArray input,
            NDArray x,
            NDArray weight,
            NDArray bias,
            NDArray baseOutput,
            NDArray lora) {
        // n is a constant of the step: the norm of the current combined weight, outside the gradient graph.
        // Results of operations land on their left operand's manager; those led by a parameter are moved to the
        // call's scope so that they are freed with it.
        NDManager scope = input.getManager();
        boolean dropped = x != input;
        NDArray delta = local(weights.b().stopGradient(), scope)
                .matMul(local(weights.a().stopGradient(), scope))
                .mul(scale);
        NDArray ratio = local(weights.magnitude().div(rowNorms(delta.add(weight))), scope); // m / n, [out]
        NDArray baseOfX = dropped
                ? x.getNDArrayInternal().linear(x, weight, null).singletonOrThrow()
                : bias == null ? baseOutput : baseOutput.sub(bias); // W x'
        return baseOutput.add(ratio.sub(one).mul(baseOfX)).add(ratio.mul(lora));
    }

    /** (m / n)(W + s B A). */
    @Override
    public NDArray merge(LoraWeights weights, NDArray combined, NDManager scope) {
        return combined.mul(
                local(weights.magnitude().div(rowNorms(combined)), scope).expandDims(1));
    }

    @Override
    public Map<String, NDArray> tensors(String module, LoraWeights weights) {
        Map<String, NDArray> tensors = LoraVariant.super.tensors(module, weights);
        tensors.put(PeftAdapterFolder.magnitudeKey(module), weights.magnitude());
        return tensors;
    }

    static NDArray local(NDArray array, NDManager scope) {
        array.attach(scope);
        return array;
    }

    /** ||row||_2 of a [out, in] matrix: [out]. */
    static NDArray rowNorms(NDArray weight) {
        return weight.mul(weight).sum(new int[] {1}).sqrt();
    }
}
