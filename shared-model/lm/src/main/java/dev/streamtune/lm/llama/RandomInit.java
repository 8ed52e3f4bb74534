package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Fresh weights for training a Llama-family model from scratch, with Hugging Face's conventions
 * ({@code LlamaPreTrainedModel._init_weights}): every linear layer and the embedding drawn from
 * Normal(0, initializer_range = 0.02), every RMSNorm weight 1, no biases; an untied head gets its own matrix.
 *
 * <p>Each tensor is drawn from its own generator, seeded from the run's seed and the tensor's name, on the host:
 * the same seed gives bit-identical weights whatever else used the engine's generator before, on CPU or GPU.
 */
public final class RandomInit {

    public static final double INITIALIZER_RANGE = 0.02;

    private RandomInit() {}

    public static LlamaWeights llama(LlamaConfig config, long seed, DataType dtype, NDManager manager) {
        LlamaWeights weights = new LlamaWeights();
        int d = config.hiddenSize();
        normal(weights, "model.embed_tokens.weight", new Shape(config.vocabSize(), d), seed, dtype, manager);
        for (int layer = 0; layer < config.layers(); layer++) {
            normal(
                    weights,
                    LlamaWeights.layer(layer, "self_attn.q_proj.weight"),
                    new Shape(d, d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "self_attn.k_proj.weight"),
                    new Shape(config.kvDim(), d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "self_attn.v_proj.weight"),
                    new Shape(config.kvDim(), d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "self_attn.o_proj.weight"),
                    new Shape(d, d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "mlp.gate_proj.weight"),
                    new Shape(config.intermediateSize(), d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "mlp.up_proj.weight"),
                    new Shape(config.intermediateSize(), d),
                    seed,
                    dtype,
                    manager);
            normal(
                    weights,
                    LlamaWeights.layer(layer, "mlp.down_proj.weight"),
                    new Shape(d, config.intermediateSize()),
                    seed,
                    dtype,
                    manager);
            if (config.family().postNorm()) {
                ones(weights, LlamaWeights.layer(layer, "post_attention_layernorm.weight"), d, dtype, manager);
                ones(weights, LlamaWeights.layer(layer, "post_feedforward_layernorm.weight"), d, dtype, manager);
            } else {
                ones(weights, LlamaWeights.layer(layer, "input_layernorm.weight"), d, dtype, manager);
                ones(weights, LlamaWeights.layer(layer, "post_attention_layernorm.weight"), d, dtype, manager);
            }
            if (config.family().qkNorm()) {
                ones(weights, LlamaWeights.layer(layer, "self_attn.q_norm.weight"), d, dtype, manager);
                ones(weights, LlamaWeights.layer(layer, "self_attn.k_norm.weight"), config.kvDim(), dtype, manager);
            }
        }
        ones(weights, "model.norm.weight", d, dtype, manager);
        if (!config.tiedEmbeddings()) {
            normal(weights, "lm_head.weight", new Shape(config.vocabSize(), d), seed, dtype, manager);
        }
        return weights;
    }

    private static void normal(
            LlamaWeights weights, String name, Shape shape, long seed, DataType dtype, NDManager manager) {
        SplittableRandom random = new SplittableRandom(seed ^ fingerprint(name));
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (gaussian(random) * INITIALIZER_RANGE);
        }
        weights.put(name, manager.create(values, shape).toType(dtype, false));
    }

    private static void ones(LlamaWeights weights, String name, int size, DataType dtype, NDManager manager) {
        weights.put(name, manager.ones(new Shape(size), dtype));
    }

    /** A standard normal draw (Marsaglia's polar method: SplittableRandom has no nextGaussian in Java 17). */
    private static double gaussian(SplittableRandom random) {
        double u;
        double v;
        double s;
        do {
            u = random.nextDouble(-1, 1);
            v = random.nextDouble(-1, 1);
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    /** FNV-1a over the name: a stable 64-bit seed offset per tensor. */
    private static long fingerprint(String name) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b;
            hash *= 0x100000001b3L;
        }
        return hash;
    }
}
