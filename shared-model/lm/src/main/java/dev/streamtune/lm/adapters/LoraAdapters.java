package dev.streamtune.lm.adapters;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.llama.LlamaWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * LoRA (Hu et al. 2021) and DoRA (Liu et al. 2024) as PEFT implements them.
 *
 * <p>LoRA: y = W x + b + s B A dropout(x), with A [r, in] drawn from U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform
 * with a = sqrt 5) and B [out, r] zeros, so training starts exactly at the base model.
 *
 * <p>DoRA adds a magnitude m [out], initialised to the row norms of W: y = (m / n) (W + s B A) x + b; what it
 * changes is {@link DoraVariant}'s, as PEFT delegates it to its {@code DoraLinearVariant}.
 *
 * <p>Only A, B (and m) are trainable; the base weight is never given a gradient.
 */
public final class LoraAdapters implements LinearAdapters {

    private final LoraSpec spec;
    private final Map<String, LoraWeights> weights = new LinkedHashMap<>();
    private final NDArray scale;
    private final LoraVariant variant;

    /**
     * Fresh plain-LoRA adapters.
     *
     * @param modules the base model's linear layers with their weights' shapes [out, in]
     */
    public LoraAdapters(LoraSpec spec, Map<String, Shape> modules, NDManager manager) {
        this(spec, modules, DataType.FLOAT32, manager);
    }

    /** @param dtype the base weights' type: the adapters compute in it (float64 for exact checks) */
    public LoraAdapters(LoraSpec spec, Map<String, Shape> modules, DataType dtype, NDManager manager) {
        this(spec, shapesOnly(spec, modules), dtype, manager, module -> {
            throw new IllegalStateException("plain LoRA reads no base weight"); // shapesOnly refuses DoRA
        });
    }

    /**
     * Fresh LoRA or DoRA adapters for a model's linear layers ({@code CausalLm.linearWeights()}): DoRA needs the
     * weights themselves to initialise its magnitudes.
     */
    public static LoraAdapters create(LoraSpec spec, Map<String, NDArray> linearWeights, NDManager manager) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        linearWeights.forEach((module, weight) -> shapes.put(module, weight.getShape()));
        return new LoraAdapters(
                spec, shapes, linearWeights.values().iterator().next().getDataType(), manager, linearWeights::get);
    }

    /**
     * Fresh LoRA or DoRA adapters for a model's linear layers, whether its base is dense or held in 4 bits (QLoRA):
     * shapes from {@code linearShapes()}, and for DoRA's magnitudes one dequantised weight at a time.
     */
    public static LoraAdapters create(LoraSpec spec, CausalLm model, NDManager manager) {
        Map<String, Shape> shapes = model.linearShapes();
        try (NDManager scope = manager.newSubManager()) {
            return new LoraAdapters(
                    spec, shapes, model.computeDtype(), manager, module -> model.linearWeight(module, scope));
        }
    }

    /**
     * Fresh adapters on the targeted layers, initialised as the variant needs.
     *
     * @param baseWeights each layer's frozen weight [out, in], asked for only by a variant that needs it (DoRA)
     */
    private LoraAdapters(
            LoraSpec spec,
            Map<String, Shape> shapes,
            DataType dtype,
            NDManager manager,
            Function<String, NDArray> baseWeights) {
        this.spec = spec;
        this.scale = manager.create(spec.scale()).toType(dtype, false);
        this.variant = variant(spec, scale, manager.create(1.0).toType(dtype, false));
        shapes.forEach((module, shape) -> {
            if (spec.targets().matches(module)) {
                LoraWeights fresh = variant.init(
                        freshWeights(spec, shape, dtype, manager), () -> baseWeights.apply(module), manager);
                weights.put(module, named(module, fresh, true));
            }
        });
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("LoRA target_modules match none of the model's linear layers");
        }
    }

    /** Adapters from existing tensors (a saved adapter), trainable again when asked. */
    public LoraAdapters(LoraSpec spec, Map<String, LoraWeights> loaded, NDManager manager, boolean trainable) {
        this.spec = spec;
        DataType dtype = loaded.values().iterator().next().a().getDataType();
        this.scale = manager.create(spec.scale()).toType(dtype, false);
        this.variant = variant(spec, scale, manager.create(1.0).toType(dtype, false));
        loaded.forEach((module, layer) -> {
            variant.check(module, layer);
            weights.put(module, named(module, layer, trainable));
        });
    }

    /** @param one 1 as a torch-owned tensor of the adapters' type */
    private static LoraVariant variant(LoraSpec spec, NDArray scale, NDArray one) {
        return spec.useDora() ? new DoraVariant(scale, one) : LoraVariant.PLAIN;
    }

    /** PEFT's initialisation: A kaiming-uniform (bound 1 / sqrt(in)), B zero, so the adapted layer starts as the base. */
    private static LoraWeights freshWeights(LoraSpec spec, Shape shape, DataType dtype, NDManager manager) {
        long out = shape.get(0);
        long in = shape.get(1);
        float bound = (float) (1.0 / Math.sqrt(in));
        NDArray a =
                manager.randomUniform(-bound, bound, new Shape(spec.r(), in)).toType(dtype, false);
        NDArray b = manager.zeros(new Shape(out, spec.r()), dtype);
        return new LoraWeights(a, b);
    }

    private static Map<String, Shape> shapesOnly(LoraSpec spec, Map<String, Shape> modules) {
        if (spec.useDora()) {
            throw new IllegalArgumentException("DoRA initialises its magnitudes from the base weights: create it with"
                    + " LoraAdapters.create(spec, model, manager)");
        }
        return modules;
    }

    private LoraWeights named(String module, LoraWeights layer, boolean trainable) {
        variant.tensors(module, layer).forEach((key, tensor) -> {
            tensor.setName(key);
            if (trainable) {
                tensor.setRequiresGradient(true);
            }
        });
        return layer;
    }

    public LoraSpec spec() {
        return spec;
    }

    @Override
    public NDArray apply(
            String module, NDArray input, NDArray weight, NDArray bias, NDArray baseOutput, boolean training) {
        LoraWeights pair = weights.get(module);
        if (pair == null) {
            return baseOutput;
        }
        boolean dropped = training && spec.dropout() > 0;
        NDArray x = dropped
                ? input.getNDArrayInternal()
                        .dropout(input, (float) spec.dropout(), true)
                        .singletonOrThrow()
                : input;
        NDArray down = x.getNDArrayInternal().linear(x, pair.a(), null).singletonOrThrow();
        NDArray lora = down.getNDArrayInternal()
                .linear(down, pair.b(), null)
                .singletonOrThrow()
                .mul(scale);
        return variant.forward(pair, input, x, weight, bias, baseOutput, lora);
    }

    /**
     * One layer's base weight [out, in] with its adapter folded in: W + s B A for LoRA, (m / n)(W + s B A) for
     * DoRA, on a new array on {@code manager} (the base stays as it was).
     */
    public NDArray mergedWeight(String module, NDArray weight, NDManager manager) {
        LoraWeights pair = weights.get(module);
        try (NDManager scope = manager.newSubManager()) {
            NDArray merged;
            if (pair == null) {
                merged = weight.duplicate();
            } else {
                NDArray combined =
                        local(pair.b().matMul(pair.a()), scope).mul(scale).add(weight);
                merged = variant.merge(pair, combined, scope);
            }
            merged.attach(manager);
            return merged;
        }
    }

    /**
     * The base weights with every adapter folded in, computed in the weights' type on new arrays (the base stays
     * as it was): a model without adapters on these weights computes what the adapted model computes.
     */
    public LlamaWeights merged(LlamaWeights base, NDManager manager) {
        LlamaWeights merged = new LlamaWeights();
        base.asMap().forEach((name, tensor) -> {
            String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
            merged.put(name, mergedWeight(module, tensor, manager));
        });
        return merged;
    }

    /** Each adapted layer's tensors, by module name. */
    public Map<String, LoraWeights> weights() {
        return weights;
    }

    /** Every trainable array: the A and B (and DoRA's m) of each adapted layer. */
    public List<NDArray> parameters() {
        List<NDArray> parameters = new ArrayList<>();
        weights.forEach((module, layer) ->
                parameters.addAll(variant.tensors(module, layer).values()));
        return parameters;
    }

    private static NDArray local(NDArray array, NDManager scope) {
        array.attach(scope);
        return array;
    }

    /** What the kind of LoRA changes in each layer: plain LoRA or DoRA. */
    LoraVariant variant() {
        return variant;
    }
}
