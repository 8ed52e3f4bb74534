package dev.streamtune.lm.llama;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.DecoderModel;
import dev.streamtune.lm.ForwardPass;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * A Llama-family decoder (Llama 2/3, SmolLM, TinyLlama, Qwen2/2.5, llama2.c models), written as the equations read:
 *
 * <pre>
 *   h_0 = E[tokens]
 *   a_l = h_l + W_o Attention(RoPE(W_q n_l), RoPE(W_k n_l), W_v n_l),   n_l = RMSNorm(h_l)
 *   h_{l+1} = a_l + W_down (SiLU(W_gate m_l) * W_up m_l),                m_l = RMSNorm(a_l)
 *   logits = W_head RMSNorm(h_L)          (W_head = E when embeddings are tied)
 * </pre>
 *
 * OLMo-2 moves the norms to the sublayers' outputs and normalises q and k (see {@link ModelFamily}). Attention is
 * causal, with grouped-query heads (each key/value head serves heads / kvHeads query heads); packed rows get a
 * block-diagonal causal mask and per-document positions, and generation reuses cached keys and values.
 * Constants that enter computations are tensors made once, never Java scalars: DJL frees scalar wrappers
 * immediately, which corrupts backward passes (see DJL_NOTES).
 *
 * <p>Weights and activations are in the precision's compute dtype; the RMSNorms and the attention softmax run in
 * its wide dtype and cast back, as Hugging Face's bfloat16 models do (see {@link Precision}).
 */
public final class LlamaModel extends DecoderModel<LlamaConfig> {

    /** Every tensor under its Hugging Face name: what is saved, merged, quantised and counted as parameters. */
    private final LlamaWeights weights;
    // The same tensors as the pass reads them, gathered from those names once when the model is built.
    private final NDArray embedding;
    private final List<LlamaDecoderLayer> layers;
    private final NDArray norm;
    private final NDArray head;
    private final RotaryEmbedding rope;
    private HeadEdits headEdits = HeadEdits.NONE;

    /** A model in its weights' dtype (float32 normally, float64 for exact checks), with that dtype's usual wide one. */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, NDManager manager) {
        this(config, weights, Precision.of(embedding(config, weights).getDataType()), manager);
    }

    /**
     * A model computing in {@code precision}: the weights must already be in its compute dtype
     * ({@link LlamaWeights#convertTo}).
     */
    public LlamaModel(LlamaConfig config, LlamaWeights weights, Precision precision, NDManager manager) {
        super(config, precision, config.rmsNormEps(), manager);
        this.weights = weights;
        if (embedding(config, weights).getDataType() != dtype) {
            throw new IllegalArgumentException(
                    "weights are " + embedding(config, weights).getDataType() + " but the model computes in " + dtype
                            + ": convert them first (LlamaWeights.convertTo)");
        }
        this.rope = new RotaryEmbedding(
                config.ropeStyle(),
                config.headDim(),
                config.maxPositions(),
                config.ropeTheta(),
                config.ropeScaling(),
                dtype,
                manager);
        checkShapes();
        this.head = head(config, weights);
        this.embedding = embedding(config, weights);
        this.layers = IntStream.range(0, config.layers())
                .mapToObj(layer -> LlamaDecoderLayer.read(config, weights, layer))
                .toList();
        this.norm = weights.get("model.norm.weight", new Shape(config.hiddenSize()));
    }

    public LlamaWeights weights() {
        return weights;
    }

    @Override
    public Collection<NDArray> allWeights() {
        return weights.asMap().values();
    }

    @Override
    public void writeHuggingFace(Path folder) throws IOException {
        HfCheckpointWriter.write(folder, config, weights);
    }

    @Override
    public void writeMerged(LoraAdapters adapters, Path folder, NDManager manager) throws IOException {
        HfCheckpointWriter.write(
                folder, config, adapters.merged(weights.dequantized(DataType.FLOAT32, manager), manager));
    }

    /** Query and key rows permuted to halves for a model with llama2.c's interleaved rotary pairs. */
    @Override
    public NDArray rowsToHuggingFace(String module, NDArray rows, NDManager scope) {
        return RotaryRows.toHuggingFace(config, module, rows, scope);
    }

    @Override
    public NDArray rowsFromHuggingFace(String module, NDArray rows, NDManager scope) {
        return RotaryRows.fromHuggingFace(config, module, rows, scope);
    }

    /** Installs an edit of the attention heads' outputs (JoLA). */
    @Override
    public void setHeadEdits(HeadEdits headEdits) {
        this.headEdits = headEdits == null ? HeadEdits.NONE : headEdits; // null takes them off
    }

    /** A linear layer's weight [out, in] by its Hugging Face module name. */
    @Override
    protected NDArray denseLinearWeight(String module) {
        return weights.find(module + ".weight");
    }

    @Override
    protected Shape linearShape(String module) {
        return weights.shape(module + ".weight");
    }

    @Override
    public NDArray linearWeight(String module, NDManager scope) {
        String name = module + ".weight";
        return weights.linear(name, weights.shape(name), scope, dtype);
    }

    /**
     * Holds every linear layer's weight in 4 bits from now on (QLoRA's frozen base): q, k, v, o, gate, up and down
     * of every layer; embeddings, norms and the output head stay in the compute dtype, as with bitsandbytes.
     */
    public void quantize(FourBitType type, boolean doubleQuant) {
        weights.quantize(
                linearModules().stream().map(module -> module + ".weight").toList(), type, doubleQuant);
    }

    @Override
    public boolean quantized() {
        return !weights.quantized().isEmpty();
    }

    /** As {@link #forward(NDArray)}; {@code training} turns on what only applies in training (adapter dropout). */
    public NDArray forward(NDArray tokens, boolean training) {
        return forward(tokens, null, training);
    }

    /** The decoder layers between the token embeddings and the output head. */
    @Override
    protected NDArray forward(NDArray tokens, ForwardPass pass) {
        RotaryEmbedding.Tables tables = rope.tables(pass.layout().positions());
        NDArray x = embed(tokens, pass.scope());
        for (LlamaDecoderLayer layer : layers) {
            x = decoderLayer(layer, x, pass, tables);
        }
        return logits(x);
    }

    /**
     * Forward and backward of {@code objective(logits)} with activation (gradient) checkpointing, as Hugging Face's
     * {@code gradient_checkpointing} does per decoder layer: a first pass without recording keeps only each layer's
     * input; the backward pass then runs layer by layer from the top, recomputing one layer with recording, pulling
     * the gradient arriving at its output back through it ({@code sum(out * g)} differentiated) and freeing its graph
     * before the next. Memory holds one layer's activations (and, with a 4-bit base, one layer's dequantised
     * weights) instead of every layer's. Gradients equal those of an ordinary backward pass; random draws (adapter
     * dropout, JoLA's stochastic gates) are reseeded per layer, so a layer's recomputation draws what its first pass
     * drew.
     *
     * @param objective the scalar to differentiate, computed from the logits (which live on {@code tokens}' manager)
     */
    @Override
    public void checkpointedBackward(
            NDArray tokens,
            Packing packing,
            boolean training,
            Function<NDArray, NDArray> objective,
            GradientCollector collector) {
        NDManager caller = tokens.getManager();
        int time = (int) tokens.getShape().get(1);
        try (NDManager scope = caller.newSubManager()) {
            ForwardPass pass = pass(scope, time, packing, training);
            RotaryEmbedding.Tables tables = rope.tables(pass.layout().positions());
            int seed = scope.randomInteger(0, Integer.MAX_VALUE, new Shape(1), DataType.INT32)
                    .getInt();
            NDArray[] inputs = new NDArray[config.layers()];
            NDArray last = Compute.withoutGradients(() -> {
                NDArray x = embed(tokens, scope);
                for (int layer = 0; layer < config.layers(); layer++) {
                    inputs[layer] = x;
                    try (NDManager layerScope = scope.newSubManager()) {
                        x.attach(layerScope); // results land on their left operand's manager: the layer's, freed below
                        Engine.getInstance().setRandomSeed(seed + layer);
                        NDArray output = decoderLayer(layers.get(layer), x, pass, tables);
                        output.attach(scope);
                        inputs[layer].attach(scope);
                        x = output;
                    }
                }
                return x;
            });
            NDArray top = leaf(last);
            NDArray logits = logits(top);
            logits.attach(caller);
            collector.backward(objective.apply(logits));
            NDArray gradient = gradientOf(top, scope);
            for (int layer = config.layers() - 1; layer >= 0; layer--) {
                try (NDManager layerScope = scope.newSubManager()) {
                    NDArray input = leaf(inputs[layer]);
                    input.attach(layerScope);
                    Engine.getInstance().setRandomSeed(seed + layer);
                    NDArray output = decoderLayer(layers.get(layer), input, pass, tables);
                    collector.backward(output.mul(gradient).sum());
                    NDArray next = gradientOf(input, scope);
                    gradient.close();
                    inputs[layer].close();
                    gradient = next;
                }
            }
            if (embedding.hasGradient()) { // full fine-tuning: the lookup's gradient reaches the embedding rows
                collector.backward(embed(tokens, scope).mul(gradient).sum());
            }
        }
    }

    @Override
    public boolean supportsCheckpointing() {
        return true;
    }

    /** A detached copy of {@code x} that records gradients: where a recomputed segment starts. */
    private static NDArray leaf(NDArray x) {
        NDArray leaf = x.stopGradient();
        leaf.setRequiresGradient(true);
        return leaf;
    }

    /** The gradient that reached {@code leaf}, detached, on {@code scope}. */
    private static NDArray gradientOf(NDArray leaf, NDManager scope) {
        NDArray gradient = leaf.getGradient();
        NDArray detached = gradient.stopGradient();
        detached.attach(scope);
        gradient.close();
        return detached;
    }

    /** The token embeddings [batch, time, hidden], on {@code scope}. */
    private NDArray embed(NDArray tokens, NDManager scope) {
        long batch = tokens.getShape().get(0);
        long time = tokens.getShape().get(1);
        // the lookup lands on the weights' manager, and so would the reshaped view of it: both belong to this call
        return Compute.scoped(embedding.get(tokens.reshape(-1).toType(DataType.INT64, false)), scope)
                .reshape(batch, time, config.hiddenSize());
    }

    /** One decoder layer: attention and feed-forward, each with its residual. */
    private NDArray decoderLayer(LlamaDecoderLayer layer, NDArray x, ForwardPass pass, RotaryEmbedding.Tables tables) {
        if (config.family().postNorm()) { // OLMo-2: h = x + Norm(Attn(x)); out = h + Norm(MLP(h))
            x = x.add(rmsNorm(attention(layer, x, pass, tables), layer.attentionNorm()));
            return x.add(rmsNorm(feedForward(layer.mlp(), x, pass), layer.mlpNorm()));
        }
        // Llama, Qwen2: h = x + Attn(Norm(x)); out = h + MLP(Norm(h))
        x = x.add(attention(layer, rmsNorm(x, layer.attentionNorm()), pass, tables));
        return x.add(feedForward(layer.mlp(), rmsNorm(x, layer.mlpNorm()), pass));
    }

    /** The final norm and the output head. */
    private NDArray logits(NDArray x) {
        return linear(rmsNorm(x, norm), head);
    }

    private NDArray attention(LlamaDecoderLayer layer, NDArray x, ForwardPass pass, RotaryEmbedding.Tables tables) {
        LlamaDecoderLayer.Attention attn = layer.attention();
        Shape shape = x.getShape();
        long batch = shape.get(0);
        long time = shape.get(1);
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int headDim = config.headDim();
        NDArray[] qkv = projections(x, pass, attn.q(), attn.k(), attn.v());
        NDArray q = qkv[0];
        NDArray k = qkv[1];
        NDArray v = qkv[2];
        if (config.family().qkNorm()) { // OLMo-2: over the whole projected vectors, before the split into heads
            q = rmsNorm(q, attn.qNorm());
            k = rmsNorm(k, attn.kNorm());
        }
        q = rope.apply(q.reshape(batch, time, heads, headDim), tables);
        k = rope.apply(k.reshape(batch, time, kvHeads, headDim), tables);
        v = v.reshape(batch, time, kvHeads, headDim);
        if (pass.cache() != null) {
            NDList all = pass.cache().append(layer.index(), k, v);
            k = all.get(0);
            v = all.get(1);
        }
        if (kvHeads != heads) { // grouped-query attention: key/value head j serves query heads j*n .. j*n+n-1
            k = k.repeat(2, heads / kvHeads);
            v = v.repeat(2, heads / kvHeads);
        }
        q = q.transpose(0, 2, 1, 3).mul(queryScale); // [B, H, T, hd], scaled once instead of the scores
        k = k.transpose(0, 2, 3, 1); // [B, H, hd, S]
        v = v.transpose(0, 2, 1, 3); // [B, H, S, hd]
        // The softmax in the wide dtype, as Hugging Face's eager attention does (softmax(..., dtype=float32)).
        NDArray weightsOfValues = precision.narrow(
                precision.widen(q.matMul(k).add(pass.layout().mask())).softmax(-1));
        NDArray perHead = weightsOfValues.matMul(v).transpose(0, 2, 1, 3); // [B, T, H, hd]
        NDArray context =
                headEdits.edit(layer.index(), perHead, pass.training()).reshape(batch, time, config.hiddenSize());
        return adapted(attn.o(), context, pass.training());
    }

    private NDArray feedForward(LlamaDecoderLayer.Mlp mlp, NDArray x, ForwardPass pass) {
        NDArray[] gateUp = projections(x, pass, mlp.gate(), mlp.up());
        NDArray gate = gateUp[0];
        NDArray lifted = gateUp[1];
        NDArray activated = gate.mul(Activation.sigmoid(gate)).mul(lifted); // SiLU(gate) * up
        return adapted(mlp.down(), activated, pass.training());
    }

    /**
     * Several linear layers of the base model reading the same input (q, k, v; gate, up), each with its bias when the
     * checkpoint has one and the fine-tuning method's adaptation applied to its own output, module by module.
     *
     * <p>{@link ForwardPass#fused()}: one matrix multiply on the weights concatenated along their output rows, its
     * result split back into the modules' outputs. The concatenation is recorded, so gradients reach each module's own
     * weight (the trainable parameter, saved under its Hugging Face name); the values are those of the separate
     * products. It is
     * a copy of the weights per call, cheap next to the products when many tokens go through (training, scoring) and
     * not when generating one token per row from a cache, which therefore multiplies module by module. Adapters see
     * exactly what they saw before: the module's input, weight, bias and base output.
     */
    private NDArray[] projections(NDArray x, ForwardPass pass, LlamaLinear... modules) {
        boolean training = pass.training();
        int n = modules.length;
        NDArray[] parts = new NDArray[n];
        NDArray[] biases = new NDArray[n];
        int withBias = 0;
        for (int i = 0; i < n; i++) {
            parts[i] = modules[i].weight(x.getManager(), dtype);
            biases[i] = modules[i].bias();
            withBias += biases[i] == null ? 0 : 1;
        }
        NDArray[] outputs = new NDArray[n];
        if (!pass.fused() || (withBias != 0 && withBias != n)) {
            for (int i = 0; i < n; i++) {
                NDArray base =
                        x.getNDArrayInternal().linear(x, parts[i], biases[i]).singletonOrThrow();
                outputs[i] = adapters().apply(modules[i].module(), x, parts[i], biases[i], base, training);
                modules[i].release(parts[i]);
            }
            return outputs;
        }
        NDManager scope = x.getManager();
        NDArray weight = NDArrays.concat(new NDList(parts), 0);
        weight.attach(scope); // a concatenation lands on its first operand's manager, the long-lived weights'
        NDArray bias = null;
        if (withBias == n) {
            bias = NDArrays.concat(new NDList(biases), 0);
            bias.attach(scope);
        }
        long[] ends = new long[n - 1];
        long end = 0;
        for (int i = 0; i < n - 1; i++) {
            end += modules[i].out();
            ends[i] = end;
        }
        NDList split = x.getNDArrayInternal()
                .linear(x, weight, bias)
                .singletonOrThrow()
                .split(ends, x.getShape().dimension() - 1); // DJL's split takes no negative axis
        weight.close(); // autograd keeps what backward needs; the copy need not wait for the end of the pass
        if (bias != null) {
            bias.close();
        }
        for (int i = 0; i < n; i++) {
            outputs[i] = adapters().apply(modules[i].module(), x, parts[i], biases[i], split.get(i), training);
            modules[i].release(parts[i]);
        }
        return outputs;
    }

    /**
     * A linear layer of the base model, with its bias when the checkpoint has one (Qwen2's q, k, v; Llama with
     * attention_bias), and the fine-tuning method's adaptation applied.
     */
    private NDArray adapted(LlamaLinear module, NDArray x, boolean training) {
        NDArray weight = module.weight(x.getManager(), dtype);
        NDArray bias = module.bias();
        NDArray base = x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        NDArray output = adapters().apply(module.module(), x, weight, bias, base, training);
        module.release(weight);
        return output;
    }

    /**
     * RMSNorm, x / sqrt(mean(x^2) + eps) * w, normalising in the wide dtype as Hugging Face does (x.to(float32) ...
     * .to(input_dtype)): a mean of squares in bfloat16 keeps 8 bits. Llama and Qwen2 narrow before scaling by w;
     * OLMo-2 scales in the wide dtype and narrows after.
     */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray wide = precision.widen(x);
        NDArray normalised =
                wide.div(wide.mul(wide).mean(new int[] {-1}, true).add(eps).sqrt());
        return config.family().normScaledWide()
                ? precision.narrow(normalised.mul(weight))
                : precision.narrow(normalised).mul(weight);
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return x.getNDArrayInternal().linear(x, weight, null).singletonOrThrow();
    }

    private void projection(int layer, String name, int out) {
        weights.requireShape(
                LlamaWeights.layer(layer, "self_attn." + name + ".weight"), new Shape(out, config.hiddenSize()));
    }

    private static NDArray embedding(LlamaConfig config, LlamaWeights weights) {
        return weights.get("model.embed_tokens.weight", new Shape(config.vocabSize(), config.hiddenSize()));
    }

    private static NDArray head(LlamaConfig config, LlamaWeights weights) {
        Shape shape = new Shape(config.vocabSize(), config.hiddenSize());
        return config.tiedEmbeddings()
                ? weights.get("model.embed_tokens.weight", shape)
                : weights.get("lm_head.weight", shape);
    }

    private void checkShapes() {
        for (int layer = 0; layer < config.layers(); layer++) {
            projection(layer, "q_proj", config.hiddenSize());
            projection(layer, "k_proj", config.kvDim());
            projection(layer, "v_proj", config.kvDim());
        }
    }
}
