package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * One decoder layer's weights, gathered once from the checkpoint's Hugging Face names: the attention and the
 * feed-forward sublayers, and the norm that goes with each, applied to the sublayer's input in Llama and Qwen2 and to
 * its output in OLMo-2 ({@link ModelFamily#postNorm()}).
 *
 * @param index         the layer's place in the stack, which its cached keys and values and its head edits go by
 * @param attention     the self-attention's projections
 * @param attentionNorm input_layernorm, or OLMo-2's post_attention_layernorm
 * @param mlp           the feed-forward's projections
 * @param mlpNorm       post_attention_layernorm, or OLMo-2's post_feedforward_layernorm
 */
record LlamaDecoderLayer(int index, Attention attention, NDArray attentionNorm, Mlp mlp, NDArray mlpNorm) {

    /**
     * Self-attention's projections, and OLMo-2's RMSNorms of the whole projected queries and keys (null for the
     * families without them).
     */
    record Attention(LlamaLinear q, LlamaLinear k, LlamaLinear v, LlamaLinear o, NDArray qNorm, NDArray kNorm) {}

    /** The gated feed-forward: down(SiLU(gate x) * up x). */
    record Mlp(LlamaLinear gate, LlamaLinear up, LlamaLinear down) {}

    static LlamaDecoderLayer read(LlamaConfig config, LlamaWeights weights, int index) {
        int hidden = config.hiddenSize();
        int kvDim = config.kvDim();
        int intermediate = config.intermediateSize();
        String prefix = LlamaWeights.layer(index, "");
        boolean qkNorm = config.family().qkNorm();
        Attention attention = new Attention(
                LlamaLinear.of(weights, prefix + "self_attn.q_proj", hidden, hidden),
                LlamaLinear.of(weights, prefix + "self_attn.k_proj", kvDim, hidden),
                LlamaLinear.of(weights, prefix + "self_attn.v_proj", kvDim, hidden),
                LlamaLinear.of(weights, prefix + "self_attn.o_proj", hidden, hidden),
                qkNorm ? weights.get(prefix + "self_attn.q_norm.weight", new Shape(hidden)) : null,
                qkNorm ? weights.get(prefix + "self_attn.k_norm.weight", new Shape(kvDim)) : null);
        Mlp mlp = new Mlp(
                LlamaLinear.of(weights, prefix + "mlp.gate_proj", intermediate, hidden),
                LlamaLinear.of(weights, prefix + "mlp.up_proj", intermediate, hidden),
                LlamaLinear.of(weights, prefix + "mlp.down_proj", hidden, intermediate));
        Shape norm = new Shape(hidden);
        return config.family().postNorm()
                ? new LlamaDecoderLayer(
                        index,
                        attention,
                        weights.get(prefix + "post_attention_layernorm.weight", norm),
                        mlp,
                        weights.get(prefix + "post_feedforward_layernorm.weight", norm))
                : new LlamaDecoderLayer(
                        index,
                        attention,
                        weights.get(prefix + "input_layernorm.weight", norm),
                        mlp,
                        weights.get(prefix + "post_attention_layernorm.weight", norm));
    }
}
