package dev.streamtune.lm.gpt2;

import ai.djl.ndarray.NDArray;
import dev.streamtune.lm.quant.QuantizedLinear;

/**
 * One GPT-2 block's weights, gathered once from the checkpoint's names ({@code h.0.attn.c_attn.weight}):
 * {@code h + attn(ln_1(h))}, then {@code + mlp(ln_2(...))}.
 *
 * @param index the block's place in the stack, which its cached keys and values go by
 */
record Gpt2Block(int index, LayerNorm ln1, Attention attn, LayerNorm ln2, Mlp mlp) {

    /** The fused q|k|v projection and the output projection. */
    record Attention(Conv1d cAttn, Conv1d cProj) {}

    /** c_fc, gelu_new, c_proj. */
    record Mlp(Conv1d cFc, Conv1d cProj) {}

    record LayerNorm(NDArray weight, NDArray bias) {}

    /**
     * A Conv1D layer, y = x W + b, known by its module name as PEFT names it ({@code transformer.h.0.attn.c_attn}): the
     * key its adapters have.
     *
     * @param weight W [in, out] when dense, otherwise null
     * @param packed W as [out, in] in 4 bits (QLoRA), otherwise null
     */
    record Conv1d(String module, NDArray weight, QuantizedLinear packed, NDArray bias) {}
}
