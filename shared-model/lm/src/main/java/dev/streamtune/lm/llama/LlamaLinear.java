package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A linear layer of the base model (q, k, v, o, gate, up, down), known by its Hugging Face module name: the key its
 * adapters and its checkpoint tensors have. The weight stays in {@link LlamaWeights} and is read on each use, because
 * {@link LlamaModel#quantize} may move it to 4 bits after the layer is built; the bias, which never is, is held here.
 *
 * @param module  the module name, {@code model.layers.0.self_attn.q_proj}
 * @param shape   the weight's shape [out, in]
 * @param bias    the bias when the checkpoint has one (Qwen2's q, k, v; Llama with attention_bias), otherwise null
 * @param weights where the weight is stored, dense or in 4 bits
 */
record LlamaLinear(String module, Shape shape, NDArray bias, LlamaWeights weights) {

    static LlamaLinear of(LlamaWeights weights, String module, long out, long in) {
        return new LlamaLinear(module, new Shape(out, in), weights.find(module + ".bias"), weights);
    }

    /** The weight [out, in] in {@code dtype}; for a weight held in 4 bits a dequantised copy on {@code scope}. */
    NDArray weight(NDManager scope, DataType dtype) {
        return weights.linear(module + ".weight", shape, scope, dtype);
    }

    /** Frees what {@link #weight} dequantised, once the layer's output is computed ({@link LlamaWeights#release}). */
    void release(NDArray weight) {
        weights.release(module + ".weight", weight);
    }

    /** The output width, the weight's rows. */
    long out() {
        return shape.get(0);
    }
}
