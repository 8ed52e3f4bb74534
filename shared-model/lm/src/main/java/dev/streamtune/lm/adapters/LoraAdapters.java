package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.llama.LinearAdapters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA (Hu et al. 2021) as PEFT implements it: y = W x + s * B A dropout(x), with A [r, in] drawn from
 * U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform with a = sqrt 5), B [out, r] zeros, so training starts exactly at the
 * base model. Only A and B are trainable; the base weight is never given a gradient.
 */
public final class LoraAdapters implements LinearAdapters {

    /** One adapted layer's trainable pair. */
    public record Pair(NDArray a, NDArray b) {
    }

    private final LoraSpec spec;
    private final Map<String, Pair> pairs = new LinkedHashMap<>();
    private final NDArray scale;

    /**
     * @param modules the base model's linear layers with their weights' shapes [out, in]
     */
    public LoraAdapters(LoraSpec spec, Map<String, Shape> modules, NDManager manager) {
        this(spec, modules, DataType.FLOAT32, manager);
    }

    /** @param dtype the base weights' type: the adapters compute in it (float64 for exact checks) */
    public LoraAdapters(LoraSpec spec, Map<String, Shape> modules, DataType dtype, NDManager manager) {
        this.spec = spec;
        this.scale = manager.create(spec.scale()).toType(dtype, false);
        modules.forEach((module, shape) -> {
            if (spec.targets().matches(module)) {
                long out = shape.get(0);
                long in = shape.get(1);
                float bound = (float) (1.0 / Math.sqrt(in));
                NDArray a = manager.randomUniform(-bound, bound, new Shape(spec.r(), in)).toType(dtype, false);
                NDArray b = manager.zeros(new Shape(out, spec.r()), dtype);
                a.setName(PeftAdapterFolder.key(module, "lora_A"));
                b.setName(PeftAdapterFolder.key(module, "lora_B"));
                a.setRequiresGradient(true);
                b.setRequiresGradient(true);
                pairs.put(module, new Pair(a, b));
            }
        });
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("LoRA target_modules match none of the model's linear layers");
        }
    }

    /** Adapters from existing tensors (a saved adapter), trainable again. */
    public LoraAdapters(LoraSpec spec, Map<String, Pair> loaded, NDManager manager, boolean trainable) {
        this.spec = spec;
        this.scale = manager.create((float) spec.scale());
        loaded.forEach((module, pair) -> {
            pair.a().setName(PeftAdapterFolder.key(module, "lora_A"));
            pair.b().setName(PeftAdapterFolder.key(module, "lora_B"));
            if (trainable) {
                pair.a().setRequiresGradient(true);
                pair.b().setRequiresGradient(true);
            }
            pairs.put(module, pair);
        });
    }

    public LoraSpec spec() {
        return spec;
    }

    @Override
    public NDArray apply(String module, NDArray input, NDArray weight, NDArray baseOutput, boolean training) {
        Pair pair = pairs.get(module);
        if (pair == null) {
            return baseOutput;
        }
        NDArray x = training && spec.dropout() > 0
                ? input.getNDArrayInternal().dropout(input, (float) spec.dropout(), true).singletonOrThrow()
                : input;
        NDArray down = x.getNDArrayInternal().linear(x, pair.a(), null).singletonOrThrow();
        NDArray up = down.getNDArrayInternal().linear(down, pair.b(), null).singletonOrThrow();
        return baseOutput.add(up.mul(scale));
    }

    /**
     * The base weights with every adapter folded in, W + s B A, computed in float32 on new arrays (the base stays
     * as it was): a model without adapters on these weights computes what the adapted model computes.
     */
    public dev.streamtune.lm.llama.LlamaWeights merged(dev.streamtune.lm.llama.LlamaWeights base, NDManager manager) {
        dev.streamtune.lm.llama.LlamaWeights merged = new dev.streamtune.lm.llama.LlamaWeights();
        base.asMap().forEach((name, tensor) -> {
            String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
            Pair pair = pairs.get(module);
            NDArray copy = tensor.duplicate();
            copy.attach(manager);
            if (pair != null) {
                NDArray delta = pair.b().matMul(pair.a()).mul(scale);
                copy.addi(delta);
                delta.close();
            }
            merged.put(name, copy);
        });
        return merged;
    }

    public Map<String, Pair> pairs() {
        return pairs;
    }

    /** Every trainable array: the A and B of each adapted layer. */
    public List<NDArray> parameters() {
        List<NDArray> parameters = new ArrayList<>();
        pairs.values().forEach(pair -> {
            parameters.add(pair.a());
            parameters.add(pair.b());
        });
        return parameters;
    }
}
