package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.runtime.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Llama checkpoint's tensors under their Hugging Face names ({@code model.layers.0.self_attn.q_proj.weight},
 * linear weights stored [out, in]), whatever file they came from.
 */
public final class LlamaWeights {

    private final Map<String, NDArray> tensors = new LinkedHashMap<>();

    public void put(String name, NDArray tensor) {
        tensor.setName(name);
        tensors.put(name, tensor);
    }

    public NDArray get(String name, Shape expected) {
        NDArray tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("checkpoint has no tensor " + name);
        }
        if (!tensor.getShape().equals(expected)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + tensor.getShape() + ", expected " + expected);
        }
        return tensor;
    }

    /** A tensor the checkpoint may or may not have (biases), or null. */
    public NDArray find(String name) {
        return tensors.get(name);
    }

    /**
     * Converts every floating-point tensor to the precision's compute dtype, in place, before a model is built on
     * them: checkpoints arrive in float32 (half-precision files are widened as they are read).
     */
    public void convertTo(Precision precision) {
        precision.convert(tensors);
    }

    public Map<String, NDArray> asMap() {
        return tensors;
    }

    static String layer(int index, String name) {
        return "model.layers." + index + "." + name;
    }
}
