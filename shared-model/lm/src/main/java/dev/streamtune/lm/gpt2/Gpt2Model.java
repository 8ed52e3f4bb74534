package dev.streamtune.lm.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.attention.CausalMasks;
import dev.streamtune.lm.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * GPT-2 as Hugging Face stores it:
 *
 * <pre>
 *   h_0 = wte[tokens] + wpe[positions]
 *   a_l = h_l + c_proj(Attention(split(c_attn(LN_1(h_l)))))
 *   h_{l+1} = a_l + mlp.c_proj(gelu_new(mlp.c_fc(LN_2(a_l))))
 *   logits = LN_f(h_L) wte^T                        (the head is tied to the token embedding)
 * </pre>
 *
 * The linear layers are Conv1D: weight [in, out], y = x W + b (fan_in_fan_out). gelu_new is the tanh approximation
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
public final class Gpt2Model {

    private final Gpt2Config config;
    private final Map<String, NDArray> weights;
    private final NDManager manager;
    private final NDArray eps;
    private final NDArray half;
    private final NDArray one;
    private final NDArray geluScale;
    private final NDArray geluCubic;
    private final NDArray queryScale;
    private final CausalMasks causalMasks;

    private Gpt2Model(Gpt2Config config, Map<String, NDArray> weights, NDManager manager) {
        this.config = config;
        this.weights = weights;
        this.manager = manager;
        DataType dtype = weight("wte.weight", new Shape(config.vocabSize(), config.embedding())).getDataType();
        this.eps = constant(config.layerNormEps(), dtype);
        this.half = constant(0.5, dtype);
        this.one = constant(1.0, dtype);
        this.geluScale = constant(Math.sqrt(2 / Math.PI), dtype);
        this.geluCubic = constant(0.044715, dtype);
        this.queryScale = constant(1 / Math.sqrt(config.headDim()), dtype);
        this.causalMasks = new CausalMasks(manager, dtype);
    }

    /** Reads a Hugging Face GPT-2 folder: config.json and model.safetensors ("transformer." prefixes dropped). */
    public static Gpt2Model read(Path folder, NDManager manager) throws IOException {
        Gpt2Config config = Gpt2Config.read(folder.resolve("config.json"));
        Map<String, NDArray> weights = new HashMap<>();
        for (Map.Entry<String, NDArray> tensor : Safetensors.read(folder.resolve("model.safetensors"), manager).entrySet()) {
            String name = tensor.getKey().startsWith("transformer.") ? tensor.getKey().substring("transformer.".length())
                    : tensor.getKey();
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                continue; // causal-mask buffers of old checkpoints, not parameters
            }
            weights.put(name, tensor.getValue());
        }
        Gpt2Model model = new Gpt2Model(config, weights, manager);
        model.checkShapes();
        return model;
    }

    public Gpt2Config config() {
        return config;
    }

    /** @param tokens [batch, time] @return [batch, time, vocab] on {@code tokens}' manager */
    public NDArray forward(NDArray tokens) {
        NDManager caller = tokens.getManager();
        try (NDManager scope = caller.newSubManager()) {
            long batch = tokens.getShape().get(0);
            int time = (int) tokens.getShape().get(1);
            int d = config.embedding();
            NDArray positions = scope.arange(0, time, 1, DataType.INT64);
            NDArray h = weight("wte.weight", new Shape(config.vocabSize(), d)).get(tokens.reshape(-1).toType(DataType.INT64, false))
                    .reshape(batch, time, d);
            h.attach(scope);
            NDArray positional = weight("wpe.weight", new Shape(config.positions(), d)).get(positions);
            positional.attach(scope);
            h = h.add(positional);
            NDArray mask = causalMasks.of(time);
            for (int layer = 0; layer < config.layers(); layer++) {
                String p = "h." + layer + ".";
                h = h.add(attention(p, layerNorm(h, p + "ln_1"), mask));
                NDArray inner = conv1d(layerNorm(h, p + "ln_2"), p + "mlp.c_fc", d, config.inner());
                h = h.add(conv1d(geluNew(inner), p + "mlp.c_proj", config.inner(), d));
            }
            h = layerNorm(h, "ln_f");
            NDArray logits = h.matMul(weight("wte.weight", new Shape(config.vocabSize(), d)).transpose());
            logits.attach(caller);
            return logits;
        }
    }

    private NDArray attention(String prefix, NDArray x, NDArray mask) {
        long batch = x.getShape().get(0);
        long time = x.getShape().get(1);
        int d = config.embedding();
        int heads = config.heads();
        int headDim = config.headDim();
        NDArray qkv = conv1d(x, prefix + "attn.c_attn", d, 3 * d);                      // [B, T, 3d]: q | k | v
        NDArray q = qkv.get(":, :, 0:" + d).reshape(batch, time, heads, headDim).transpose(0, 2, 1, 3).mul(queryScale);
        NDArray k = qkv.get(":, :, " + d + ":" + 2 * d).reshape(batch, time, heads, headDim).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(":, :, " + 2 * d + ":").reshape(batch, time, heads, headDim).transpose(0, 2, 1, 3);
        NDArray context = q.matMul(k).add(mask).softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(batch, time, d);
        return conv1d(context, prefix + "attn.c_proj", d, d);
    }

    private NDArray conv1d(NDArray x, String module, int in, int out) {
        return x.matMul(weight(module + ".weight", new Shape(in, out))).add(weight(module + ".bias", new Shape(out)));
    }

    private NDArray layerNorm(NDArray x, String module) {
        Shape shape = new Shape(config.embedding());
        NDArray centred = x.sub(x.mean(new int[] {-1}, true));
        NDArray variance = centred.mul(centred).mean(new int[] {-1}, true);
        return centred.div(variance.add(eps).sqrt()).mul(weight(module + ".weight", shape)).add(weight(module + ".bias", shape));
    }

    private NDArray geluNew(NDArray x) {
        NDArray inner = x.add(x.mul(x).mul(x).mul(geluCubic)).mul(geluScale);
        return x.mul(half).mul(inner.tanh().add(one));
    }

    private NDArray weight(String name, Shape expected) {
        NDArray tensor = weights.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("GPT-2 checkpoint has no tensor " + name);
        }
        if (!tensor.getShape().equals(expected)) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + tensor.getShape() + ", expected " + expected);
        }
        return tensor;
    }

    private void checkShapes() {
        int d = config.embedding();
        for (int layer = 0; layer < config.layers(); layer++) {
            String p = "h." + layer + ".";
            weight(p + "attn.c_attn.weight", new Shape(d, 3 * d));
            weight(p + "attn.c_proj.weight", new Shape(d, d));
            weight(p + "mlp.c_fc.weight", new Shape(d, config.inner()));
            weight(p + "mlp.c_proj.weight", new Shape(config.inner(), d));
        }
    }

    private NDArray constant(double value, DataType dtype) {
        return manager.create(value).toType(dtype, false);
    }
}
