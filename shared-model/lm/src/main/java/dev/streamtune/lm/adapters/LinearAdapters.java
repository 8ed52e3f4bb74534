package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;

/**
 * What a fine-tuning method adds to a linear layer of the base model (LoRA's low-rank update, DoRA's rescaling).
 * The model calls it for every projection with the module's Hugging Face name, e.g.
 * {@code model.layers.3.self_attn.q_proj} or {@code transformer.h.0.attn.c_attn}.
 */
public interface LinearAdapters {

    LinearAdapters NONE = (module, input, weight, bias, baseOutput, training) -> baseOutput;

    /**
     * @param input      the layer's input [..., in]
     * @param weight     the frozen base weight seen as [out, in] (a transposed view for Conv1D layers)
     * @param bias       the layer's bias [out], or null
     * @param baseOutput {@code input @ weight^T + bias}
     * @return the layer's output with the adaptation applied
     */
    NDArray apply(String module, NDArray input, NDArray weight, NDArray bias, NDArray baseOutput, boolean training);
}
