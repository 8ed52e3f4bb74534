package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What sets a kind of LoRA apart in an adapted layer, as PEFT's {@code LoraVariant}: the tensors it adds at
 * initialisation, how it changes the forward and the merge. {@link LoraAdapters} holds one variant for all its
 * layers and delegates those parts to it: {@link #PLAIN} LoRA, or {@link DoraVariant} (PEFT's
 * {@code DoraLinearVariant}).
 */
interface LoraVariant {

    /** Plain LoRA: A and B only, y = W x + b + s B A dropout(x). */
    LoraVariant PLAIN = new LoraVariant() {
        @Override
        public LoraWeights init(LoraWeights fresh, Supplier<NDArray> baseWeight, NDManager manager) {
            return fresh;
        }

        @Override
        public void check(String module, LoraWeights loaded) {
            if (loaded.magnitude() != null) {
                throw new IllegalArgumentException("module " + module + " has a DoRA magnitude but use_dora is false");
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
            return baseOutput.add(lora);
        }

        @Override
        public NDArray merge(LoraWeights weights, NDArray combined, NDManager scope) {
            return combined;
        }
    };

    /**
     * A fresh layer's tensors: {@code fresh} holds PEFT's A and B; a variant adds its own.
     *
     * @param baseWeight the layer's frozen weight [out, in], fetched only by a variant that needs it
     */
    LoraWeights init(LoraWeights fresh, Supplier<NDArray> baseWeight, NDManager manager);

    /** Refuses a loaded layer whose tensors are not this variant's. */
    void check(String module, LoraWeights loaded);

    /**
     * The adapted layer's output.
     *
     * @param input      the layer's input
     * @param x          what the LoRA branch saw: {@code input} itself, or a new array after dropout
     * @param weight     the frozen base weight [out, in]
     * @param bias       the layer's bias, or null
     * @param baseOutput W input + b
     * @param lora       s B A x
     */
    NDArray forward(
            LoraWeights weights,
            NDArray input,
            NDArray x,
            NDArray weight,
            NDArray bias,
            NDArray baseOutput,
            NDArray lora);

    /** The merged weight given {@code combined} = W + s B A, on {@code scope}. */
    NDArray merge(LoraWeights weights, NDArray combined, NDManager scope);

    /** The layer's trainable tensors under their PEFT file keys, in the file's order: A, B, then DoRA's magnitude. */
    default Map<String, NDArray> tensors(String module, LoraWeights weights) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put(PeftAdapterFolder.key(module, "lora_A"), weights.a());
        tensors.put(PeftAdapterFolder.key(module, "lora_B"), weights.b());
        return tensors;
    }
}
