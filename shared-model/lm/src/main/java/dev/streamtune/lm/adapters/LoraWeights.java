package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;

/**
 * One adapted layer's trainable tensors, as PEFT names them: {@code lora_A} [r, in], {@code lora_B} [out, r] and,
 * for DoRA, {@code lora_magnitude_vector} [out] ({@code magnitude} is null for plain LoRA).
 */
public record LoraWeights(NDArray a, NDArray b, NDArray magnitude) {

    /** Plain LoRA's A and B. */
    public LoraWeights(NDArray a, NDArray b) {
        this(a, b, null);
    }
}
