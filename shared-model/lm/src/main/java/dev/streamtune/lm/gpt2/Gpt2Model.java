package dev.streamtune.lm.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.lm.DecoderModel;
import dev.streamtune.lm.ForwardPass;
import dev.streamtune.lm.adapters.LinearAdapters;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.quant.QuantizedLinear;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;

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
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). PEFT wraps these Conv1D layers with fan_in_fan_out = true; c_attn
 * is one fused q|k|v layer, so LoRA on it adapts all three at once, as in PEFT.
 *
 * <p>Weights and activations are in the precision's compute dtype; the LayerNorms and the attention softmax run in
 * its wide dtype and cast back (see {@link Precision}).
 */
public final class Gpt2Model extends DecoderModel<Gpt2Config> {

    private final Map<String, NDArray> weights;
    private final NDManager manager;
    private final NDArray half;
    private final NDArray one;
    private final NDArray geluScale;
    private final NDArray geluCubic;
    /** Conv1D weights held in 4 bits (QLoRA), as [out, in] like bitsandbytes' Linear4bit holds them; by tensor name. */
    private final Map<String, QuantizedLinear> quantized;
    // The same tensors as the pass reads them, gathered from their names once when the model is built.
    private final NDArray wte;
    private final NDArray wpe;
    private final List<Gpt2Block> blocks;
    private final Gpt2Block.LayerNorm lnF;

    /** Where PEFT finds the blocks inside GPT2LMHeadModel. */
    private static final String MODULE_PREFIX = "transformer.";

    private Gpt2Model(
            Gpt2Config config,
            Map<String, NDArray> weights,
            Map<String, QuantizedLinear> quantized,
            Precision precision,
            NDManager manager) {
        super(config, precision, config.layerNormEps(), manager);
        this.weights = weights;
        this.quantized = new LinkedHashMap<>(quantized);
        this.manager = manager;
        DataType stored = weight("wte.weight", new Shape(config.vocabSize(), config.embedding()))
                .getDataType();
        if (stored != dtype) {
            throw new IllegalArgumentException("weights are " + stored + " but the model computes in " + dtype);
        }
        this.half = constant(0.5, dtype);
        this.one = constant(1.0, dtype);
        this.geluScale = constant(Math.sqrt(2 / Math.PI), dtype);
        this.geluCubic = constant(0.044715, dtype);
        checkShapes();
        int d = config.embedding();
        this.wte = weight("wte.weight", new Shape(config.vocabSize(), d));
        this.wpe = weight("wpe.weight", new Shape(config.positions(), d));
        this.blocks = IntStream.range(0, config.layers()).mapToObj(this::block).toList();
        this.lnF = layerNorm("ln_f");
    }

    private Gpt2Block block(int layer) {
        String p = "h." + layer + ".";
        int d = config.embedding();
        return new Gpt2Block(
                layer,
                layerNorm(p + "ln_1"),
                new Gpt2Block.Attention(conv1d(p + "attn.c_attn", d, 3 * d), conv1d(p + "attn.c_proj", d, d)),
                layerNorm(p + "ln_2"),
                new Gpt2Block.Mlp(
                        conv1d(p + "mlp.c_fc", d, config.inner()), conv1d(p + "mlp.c_proj", config.inner(), d)));
    }

    private Gpt2Block.LayerNorm layerNorm(String module) {
        Shape shape = new Shape(config.embedding());
        return new Gpt2Block.LayerNorm(weight(module + ".weight", shape), weight(module + ".bias", shape));
    }

    /** A Conv1D layer's weight, dense [in, out] or held in 4 bits as [out, in], and its bias [out]. */
    private Gpt2Block.Conv1d conv1d(String module, int in, int out) {
        QuantizedLinear packed = quantized.get(module + ".weight");
        return new Gpt2Block.Conv1d(
                MODULE_PREFIX + module,
                packed == null ? weight(module + ".weight", new Shape(in, out)) : null,
                packed,
                weight(module + ".bias", new Shape(out)));
    }

    /**
     * Reads a Hugging Face GPT-2 folder: config.json and model.safetensors ("transformer." prefixes dropped), computing
     * in the weights' dtype as read (float32; half-precision files are widened as they are read).
     */
    public static Gpt2Model read(Path folder, NDManager manager) throws IOException {
        Map<String, NDArray> weights = readWeights(folder, manager);
        NDArray embedding = weights.get("wte.weight");
        Precision precision = Precision.of(embedding == null ? DataType.FLOAT32 : embedding.getDataType());
        return built(Gpt2Config.read(folder.resolve("config.json")), weights, precision, manager);
    }

    /** As {@link #read(Path, NDManager)}, with the weights converted to the precision's compute dtype. */
    public static Gpt2Model read(Path folder, Precision precision, NDManager manager) throws IOException {
        Map<String, NDArray> weights = readWeights(folder, manager);
        precision.convert(weights);
        return built(Gpt2Config.read(folder.resolve("config.json")), weights, precision, manager);
    }

    private static Map<String, NDArray> readWeights(Path folder, NDManager manager) throws IOException {
        Map<String, NDArray> weights = new HashMap<>();
        for (Map.Entry<String, NDArray> tensor :
                Safetensors.read(folder.resolve("model.safetensors"), manager).entrySet()) {
            String name = tensor.getKey().startsWith("transformer.")
                    ? tensor.getKey().substring("transformer.".length())
                    : tensor.getKey();
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                continue; // causal-mask buffers of old checkpoints, not parameters
            }
            weights.put(name, tensor.getValue());
        }
        return weights;
    }

    private static Gpt2Model built(
            Gpt2Config config, Map<String, NDArray> weights, Precision precision, NDManager manager) {
        return new Gpt2Model(config, weights, Map.of(), precision, manager);
    }

    /**
     * A model whose Conv1D weights have the adapters folded in (LoRA W + s B A, DoRA (m/n)(W + s B A), transposed
     * back to [in, out]); this model is left as it is.
     */
    public Gpt2Model merged(LoraAdapters adapters, NDManager target) {
        Map<String, NDArray> merged = new HashMap<>();
        Map<String, NDArray> linear = linearWeights();
        weights.forEach((name, tensor) -> {
            String module = name.endsWith(".weight")
                    ? MODULE_PREFIX + name.substring(0, name.length() - ".weight".length())
                    : null;
            NDArray copy;
            if (module != null && adapters.weights().containsKey(module)) {
                try (NDArray outIn = adapters.mergedWeight(module, linear.get(module), target)) {
                    copy = outIn.transpose().duplicate();
                }
            } else {
                copy = tensor.duplicate();
            }
            copy.attach(target);
            copy.setName(name);
            merged.put(name, copy);
        });
        precision.convert(merged);
        return built(config, merged, precision, target);
    }

    /**
     * Writes a Hugging Face GPT-2 folder that transformers loads as GPT2LMHeadModel: config.json and
     * model.safetensors with the "transformer." names (the head is tied, so not written).
     */
    public void write(Path folder) throws IOException {
        Files.createDirectories(folder);
        Map<String, NDArray> tensors = new TreeMap<>();
        weights.forEach((name, tensor) -> tensors.put(MODULE_PREFIX + name, tensor));
        Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode node = json.createObjectNode();
        node.putArray("architectures").add("GPT2LMHeadModel");
        node.put("model_type", "gpt2");
        node.put("n_embd", config.embedding());
        node.put("n_head", config.heads());
        node.put("n_layer", config.layers());
        node.put("n_positions", config.positions());
        node.put("n_ctx", config.positions());
        if (config.inner() == 4 * config.embedding()) {
            node.putNull("n_inner");
        } else {
            node.put("n_inner", config.inner());
        }
        node.put("layer_norm_epsilon", config.layerNormEps());
        node.put("activation_function", config.activation());
        node.put("vocab_size", config.vocabSize());
        node.put("tie_word_embeddings", true);
        node.put("torch_dtype", "float32");
        json.writeValue(folder.resolve("config.json").toFile(), node);
    }

    @Override
    public Collection<NDArray> allWeights() {
        return weights.values();
    }

    @Override
    public void writeHuggingFace(Path folder) throws IOException {
        write(folder);
    }

    @Override
    public void writeMerged(LoraAdapters adapters, Path folder, NDManager manager) throws IOException {
        (quantized() ? dequantized(manager) : this).merged(adapters, manager).write(folder);
    }

    /**
     * A Conv1D layer's weight by module name, as PEFT names it on GPT2LMHeadModel ({@code transformer.h.0.attn.c_attn}),
     * seen as [out, in]: a transposed view, as PEFT sees it with fan_in_fan_out; the stored tensor stays [in, out].
     */
    @Override
    protected NDArray denseLinearWeight(String module) {
        return weights.get(tensorName(module)).transpose();
    }

    @Override
    protected Shape linearShape(String module) {
        QuantizedLinear packed = quantized.get(tensorName(module));
        if (packed != null) {
            return packed.shape();
        }
        Shape stored = weights.get(tensorName(module)).getShape();
        return new Shape(stored.get(1), stored.get(0));
    }

    @Override
    public NDArray linearWeight(String module, NDManager scope) {
        String name = tensorName(module);
        QuantizedLinear packed = quantized.get(name);
        return packed != null
                ? packed.dequantize(scope, dtype)
                : Compute.scoped(weights.get(name).transpose(), scope);
    }

    @Override
    public boolean quantized() {
        return !quantized.isEmpty();
    }

    /** The Conv1D weights held in 4 bits, by tensor name (empty for a dense model). */
    public Map<String, QuantizedLinear> quantizedWeights() {
        return Collections.unmodifiableMap(quantized);
    }

    /**
     * This model on {@code target}'s device with its Conv1D weights in 4 bits (QLoRA's frozen base), quantised as
     * [out, in], as transformers hands GPT-2's Conv1D layers to bitsandbytes; embeddings, LayerNorms and biases are
     * copied as they are and converted to {@code precision}. This model is left as it was.
     */
    public Gpt2Model quantizedOnto(FourBitType type, boolean doubleQuant, Precision precision, NDManager target) {
        Set<String> linear = new HashSet<>();
        linearModules().forEach(module -> linear.add(tensorName(module)));
        Map<String, NDArray> dense = new HashMap<>();
        Map<String, QuantizedLinear> packed = new LinkedHashMap<>();
        weights.forEach((name, tensor) -> {
            if (linear.contains(name)) {
                try (NDArray outIn = tensor.transpose().duplicate()) {
                    packed.put(name, QuantizedLinear.quantize(outIn, type, doubleQuant, target));
                }
            } else {
                NDArray copy = Compute.copyTo(tensor, target);
                copy.setName(name);
                dense.put(name, copy);
            }
        });
        precision.convert(dense);
        return new Gpt2Model(config, dense, packed, precision, target);
    }

    /** This model with its 4-bit Conv1D weights dequantised (new arrays on {@code target}), the rest shared. */
    public Gpt2Model dequantized(NDManager target) {
        Map<String, NDArray> dense = new HashMap<>(weights);
        quantized.forEach((name, packed) -> {
            NDArray outIn = packed.dequantize(target, dtype);
            NDArray inOut = outIn.transpose().duplicate();
            outIn.close();
            inOut.attach(target);
            inOut.setName(name);
            dense.put(name, inOut);
        });
        return built(config, dense, precision, target);
    }

    /** The tensors under their names without the "transformer." prefix. */
    public Map<String, NDArray> weights() {
        return weights;
    }

    @Override
    protected NDArray forward(NDArray tokens, ForwardPass pass) {
        NDManager scope = pass.scope();
        long batch = tokens.getShape().get(0);
        int time = (int) tokens.getShape().get(1);
        int d = config.embedding();
        NDArray positions = pass.layout().positions();
        // a lookup into a weight lands on the weights' manager: moved here, or each pass would leave its rows there
        NDArray h = Compute.scoped(wte.get(tokens.reshape(-1).toType(DataType.INT64, false)), scope)
                .reshape(batch, time, d);
        NDArray positional = Compute.scoped(wpe.get(positions.reshape(-1)), scope)
                .reshape(positions.getShape().get(0), time, d);
        h = h.add(positional);
        for (Gpt2Block block : blocks) {
            h = h.add(attention(block, layerNorm(h, block.ln1()), pass));
            NDArray inner = conv1d(layerNorm(h, block.ln2()), block.mlp().cFc(), pass.training());
            h = h.add(conv1d(geluNew(inner), block.mlp().cProj(), pass.training()));
        }
        h = layerNorm(h, lnF);
        return h.matMul(Compute.scoped(wte.transpose(), scope));
    }

    private NDArray attention(Gpt2Block block, NDArray x, ForwardPass pass) {
        long batch = x.getShape().get(0);
        long time = x.getShape().get(1);
        int d = config.embedding();
        int heads = config.heads();
        int headDim = config.headDim();
        NDArray qkv = conv1d(x, block.attn().cAttn(), pass.training()); // [B, T, 3d]: q | k | v
        NDArray q = qkv.get(":, :, 0:" + d)
                .reshape(batch, time, heads, headDim)
                .transpose(0, 2, 1, 3)
                .mul(queryScale);
        NDArray k = qkv.get(":, :, " + d + ":" + 2 * d).reshape(batch, time, heads, headDim);
        NDArray v = qkv.get(":, :, " + 2 * d + ":").reshape(batch, time, heads, headDim);
        if (pass.cache() != null) {
            NDList all = pass.cache().append(block.index(), k, v);
            k = all.get(0);
            v = all.get(1);
        }
        k = k.transpose(0, 2, 3, 1); // [B, H, hd, S]
        v = v.transpose(0, 2, 1, 3); // [B, H, S, hd]
        // The softmax in the wide dtype, as the fused attention kernels Hugging Face uses by default accumulate it.
        NDArray attended = precision.narrow(
                precision.widen(q.matMul(k).add(pass.layout().mask())).softmax(-1));
        NDArray context = attended.matMul(v).transpose(0, 2, 1, 3).reshape(batch, time, d);
        return conv1d(context, block.attn().cProj(), pass.training());
    }

    /** y = x W + b with W [in, out], and the fine-tuning method's adaptation, which sees W as [out, in]. */
    private NDArray conv1d(NDArray x, Gpt2Block.Conv1d layer, boolean training) {
        NDArray bias = layer.bias();
        if (layer.packed() != null) { // [out, in], dequantised for this product and released after it
            NDArray outIn = layer.packed().dequantize(x.getManager(), dtype);
            NDArray base = x.getNDArrayInternal().linear(x, outIn, bias).singletonOrThrow();
            NDArray output = adapters().apply(layer.module(), x, outIn, bias, base, training);
            outIn.close();
            return output;
        }
        NDArray weight = layer.weight();
        NDArray base = x.matMul(weight).add(bias);
        if (adapters() == LinearAdapters.NONE) {
            return base;
        }
        return adapters()
                .apply(layer.module(), x, Compute.scoped(weight.transpose(), x.getManager()), bias, base, training);
    }

    /**
     * LayerNorm with its statistics and affine step in the wide dtype, narrowed once at the end: what PyTorch's
     * layer_norm kernel does for a 16-bit input, accumulating in float32 and rounding only its output.
     */
    private NDArray layerNorm(NDArray x, Gpt2Block.LayerNorm norm) {
        NDArray wide = precision.widen(x);
        NDArray centred = wide.sub(wide.mean(new int[] {-1}, true));
        NDArray variance = centred.mul(centred).mean(new int[] {-1}, true);
        return precision.narrow(
                centred.div(variance.add(eps).sqrt()).mul(norm.weight()).add(norm.bias()));
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
            throw new IllegalArgumentException(
                    "tensor " + name + " has shape " + tensor.getShape() + ", expected " + expected);
        }
        return tensor;
    }

    private void checkShapes() {
        int d = config.embedding();
        for (int layer = 0; layer < config.layers(); layer++) {
            String p = "h." + layer + ".";
            conv1dShape(p + "attn.c_attn.weight", d, 3 * d);
            conv1dShape(p + "attn.c_proj.weight", d, d);
            conv1dShape(p + "mlp.c_fc.weight", d, config.inner());
            conv1dShape(p + "mlp.c_proj.weight", config.inner(), d);
        }
    }

    /** The stored weight of a module as PEFT names it: {@code transformer.h.0.attn.c_attn} -> {@code h.0.attn.c_attn.weight}. */
    private static String tensorName(String module) {
        return module.substring(MODULE_PREFIX.length()) + ".weight";
    }

    /** A Conv1D weight is [in, out] when dense, [out, in] when held in 4 bits. */
    private void conv1dShape(String name, int in, int out) {
        QuantizedLinear packed = quantized.get(name);
        if (packed == null) {
            weight(name, new Shape(in, out));
        } else if (!packed.shape().equals(new Shape(out, in))) {
            throw new IllegalArgumentException(
                    "tensor " + name + " is held as " + packed.shape() + ", expected " + new Shape(out, in));
        }
    }

    private NDArray constant(double value, DataType dtype) {
        return manager.create(value).toType(dtype, false);
    }
}
