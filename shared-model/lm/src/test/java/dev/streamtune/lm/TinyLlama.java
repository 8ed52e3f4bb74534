package dev.streamtune.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.llama.RopeStyle;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A tiny random Llama in float64 (grouped-query attention, two layers, untied head) for exact checks: gradients
 * against finite differences, merges against adapters. Seeded, so every test sees the same model.
 */
final class TinyLlama {

    static final LlamaConfig CONFIG =
            new LlamaConfig(16, 24, 2, 4, 2, 32, 16, 10000.0, 1e-6, RopeStyle.HALF, false, null);

    private final Random random;
    private final NDManager manager;

    TinyLlama(long seed, NDManager manager) {
        this.random = new Random(seed);
        this.manager = manager;
    }

    LlamaModel model() {
        LlamaWeights weights = new LlamaWeights();
        int d = CONFIG.hiddenSize();
        int kv = CONFIG.kvDim();
        weights.put("model.embed_tokens.weight", gaussian(new Shape(CONFIG.vocabSize(), d), 1.0));
        weights.put("lm_head.weight", gaussian(new Shape(CONFIG.vocabSize(), d), 0.3));
        weights.put("model.norm.weight", gaussian(new Shape(d), 0.1).add(1.0));
        for (int l = 0; l < CONFIG.layers(); l++) {
            String p = "model.layers." + l + ".";
            weights.put(
                    p + "input_layernorm.weight", gaussian(new Shape(d), 0.1).add(1.0));
            weights.put(
                    p + "post_attention_layernorm.weight",
                    gaussian(new Shape(d), 0.1).add(1.0));
            weights.put(p + "self_attn.q_proj.weight", gaussian(new Shape(d, d), 0.3));
            weights.put(p + "self_attn.k_proj.weight", gaussian(new Shape(kv, d), 0.3));
            weights.put(p + "self_attn.v_proj.weight", gaussian(new Shape(kv, d), 0.3));
            weights.put(p + "self_attn.o_proj.weight", gaussian(new Shape(d, d), 0.3));
            weights.put(p + "mlp.gate_proj.weight", gaussian(new Shape(CONFIG.intermediateSize(), d), 0.3));
            weights.put(p + "mlp.up_proj.weight", gaussian(new Shape(CONFIG.intermediateSize(), d), 0.3));
            weights.put(p + "mlp.down_proj.weight", gaussian(new Shape(d, CONFIG.intermediateSize()), 0.3));
        }
        return new LlamaModel(CONFIG, weights, manager);
    }

    int[][] tokens(int rows, int time) {
        return RandomTokens.uniform(random, CONFIG.vocabSize(), rows, time);
    }

    /**
     * LoRA pairs of rank {@code rank} on the given modules of {@code model} (dense or 4-bit), A and B both drawn:
     * B is not zero, or A's gradient would be zero and prove nothing, and the adapters would change nothing.
     */
    Map<String, LoraWeights> loraPairs(LlamaModel model, Collection<String> modules, int rank) {
        Map<String, LoraWeights> pairs = new LinkedHashMap<>();
        for (String module : modules) {
            Shape weight = model.linearShapes().get(module);
            pairs.put(
                    module,
                    new LoraWeights(
                            gaussian(new Shape(rank, weight.get(1)), 0.3),
                            gaussian(new Shape(weight.get(0), rank), 0.3)));
        }
        return pairs;
    }

    NDArray gaussian(Shape shape, double scale) {
        double[] values = new double[(int) shape.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian() * scale;
        }
        return manager.create(values, shape);
    }
}
