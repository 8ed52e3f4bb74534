package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import java.util.function.UnaryOperator;

/**
 * One adapted layer's trainable tensors, as PEFT names them: {@code lora_A} [r, in], {@code lora_B} [out, r] and,
 * for DoRA, {@code lora_magnitude_vector} [out] ({@code magnitude} is null for plain LoRA).
 */
public record LoraWeights(NDArray a, NDArray b, NDArray magnitude) {

    /** Plain LoRA's A and B. */
    public LoraWeights(NDArray a, NDArray b) {
        this(a, b, null);
    }

    /**
     * These tensors with the ones indexed by the layer's output rows (B, and DoRA's magnitude) mapped by
     * {@code rows}, A as it is: the same layer in another layout of rows.
     */
    public LoraWeights withRows(UnaryOperator<NDArray> rows) {
        return new LoraWeights(a, rows.apply(b), magnitude == null ? null : rows.apply(magnitude));
    }
}
