package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.quant.QuantizedLinear;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Llama checkpoint's tensors under their Hugging Face names ({@code model.layers.0.self_attn.q_proj.weight},
 * linear weights stored [out, in]), whatever file they came from.
 *
 * <p>Linear weights may be held in 4 bits instead ({@link #quantize}, QLoRA): they are then no longer among the
 * dense tensors and are read through {@link #linear}, which dequantises them for one use.
 */
public final class LlamaWeights {

    private final Map<String, NDArray> tensors = new LinkedHashMap<>();
    private final Map<String, QuantizedLinear> quantized = new LinkedHashMap<>();

    public void put(String name, NDArray tensor) {
        tensor.setName(name);
        tensors.put(name, tensor);
    }

    public NDArray get(String name, Shape expected) {
        if (quantized.containsKey(name)) {
            throw new IllegalStateException("tensor " + name + " is held in 4 bits: read it with linear()");
        }
        requireShape(name, expected);
        return tensors.get(name);
    }

    /** Checks that the checkpoint has the tensor, dense or held in 4 bits, with that shape. */
    public void requireShape(String name, Shape expected) {
        Shape actual = shape(name);
        if (actual == null) {
            throw new IllegalArgumentException("checkpoint has no tensor " + name);
        }
        if (!actual.equals(expected)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + actual + ", expected " + expected);
        }
    }

    /**
     * A linear weight [out, in] as the forward uses it, in {@code dtype}: the stored tensor, or for a weight held in
     * 4 bits a dequantised copy on {@code scope}, which {@link #release} frees once the layer has used it.
     */
    public NDArray linear(String name, Shape expected, NDManager scope, DataType dtype) {
        QuantizedLinear packed = quantized.get(name);
        if (packed == null) {
            return get(name, expected);
        }
        requireShape(name, expected);
        return packed.dequantize(scope, dtype);
    }

    /**
     * Frees what {@link #linear} dequantised, as soon as the layer's output is computed: when recording gradients,
     * the graph keeps the values it needs for the backward pass until then; otherwise only one layer's weight is
     * ever dense at a time.
     */
    public void release(String name, NDArray weight) {
        if (quantized.containsKey(name)) {
            weight.close();
        }
    }

    /** The shape of a tensor, dense or held in 4 bits, or null when there is none. */
    public Shape shape(String name) {
        NDArray tensor = tensors.get(name);
        if (tensor != null) {
            return tensor.getShape();
        }
        QuantizedLinear packed = quantized.get(name);
        return packed == null ? null : packed.shape();
    }

    /**
     * Holds the named linear weights in 4 bits from now on, on their own device, closing the dense tensors: the
     * frozen base of QLoRA. Norms, embeddings and the output head stay as they are, as with bitsandbytes.
     */
    public void quantize(Collection<String> names, FourBitType type, boolean doubleQuant) {
        for (String name : names) {
            NDArray dense = tensors.remove(name);
            if (dense == null) {
                throw new IllegalArgumentException("checkpoint has no dense tensor " + name + " to quantise");
            }
            quantized.put(name, QuantizedLinear.quantize(dense, type, doubleQuant, dense.getManager()));
            dense.close();
        }
    }

    /**
     * These weights on {@code target}'s device with the named linear weights in 4 bits: those are quantised from
     * here (typically the host) straight into packed form there, the others copied there as they are. This set is
     * left as it was; close its manager to free it.
     */
    public LlamaWeights quantizedOnto(
            Collection<String> names, FourBitType type, boolean doubleQuant, NDManager target) {
        Set<String> linear = new HashSet<>(names);
        LlamaWeights placed = new LlamaWeights();
        tensors.forEach((name, tensor) -> {
            if (linear.remove(name)) {
                placed.quantized.put(name, QuantizedLinear.quantize(tensor, type, doubleQuant, target));
            } else {
                placed.put(name, Compute.copyTo(tensor, target));
            }
        });
        if (!linear.isEmpty()) {
            throw new IllegalArgumentException("checkpoint has no dense tensors " + linear + " to quantise");
        }
        return placed;
    }

    /** The linear weights held in 4 bits, by name (empty for a dense model). */
    public Map<String, QuantizedLinear> quantized() {
        return Collections.unmodifiableMap(quantized);
    }

    /**
     * Every tensor dense, in {@code dtype} for those held in 4 bits (their dequantised values, new arrays on
     * {@code manager}) and the dense ones shared: what a merge folds adapters into, as PEFT merges into the
     * dequantised base.
     */
    public LlamaWeights dequantized(DataType dtype, NDManager manager) {
        LlamaWeights dense = new LlamaWeights();
        tensors.forEach(dense::put);
        quantized.forEach((name, packed) -> dense.put(name, packed.dequantize(manager, dtype)));
        return dense;
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

    /** The dense tensors (those held in 4 bits are in {@link #quantized()}). */
    public Map<String, NDArray> asMap() {
        return tensors;
    }

    static String layer(int index, String name) {
        return "model.layers." + index + "." + name;
    }
}
