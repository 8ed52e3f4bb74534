package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.streamtune.lm.attention.CausalMasks;

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
 * Attention is causal, with grouped-query heads (each key/value head serves heads / kvHeads query heads).
 * Constants that enter computations are tensors made once, never Java scalars: DJL frees scalar wrappers
 * immediately, which corrupts backward passes (see DJL_NOTES).
 */
public final class LlamaModel {

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final RotaryEmbedding rope;
    private final NDArray eps;
    private final NDArray queryScale;
    private final DataType dtype;
    private final CausalMasks causalMasks;
    private LinearAdapters adapters = LinearAdapters.NONE;
    private HeadEdits headEdits = HeadEdits.NONE;

    public LlamaModel(LlamaConfig config, LlamaWeights weights, NDManager manager) {
        this.config = config;
        this.weights = weights;
        // Constants take the weights' type: float32 normally, float64 for exact checks (gradients, merges).
        this.dtype = weights.get("model.embed_tokens.weight", new Shape(config.vocabSize(), config.hiddenSize())).getDataType();
        this.rope = new RotaryEmbedding(config.ropeStyle(), config.headDim(), config.maxPositions(), config.ropeTheta(),
                config.ropeScaling(), dtype, manager);
        this.eps = manager.create(config.rmsNormEps()).toType(dtype, false);
        this.queryScale = manager.create(1.0 / Math.sqrt(config.headDim())).toType(dtype, false);
        this.causalMasks = new CausalMasks(manager, dtype);
        checkShapes();
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** Installs a fine-tuning method's adaptation of the linear layers (LoRA, DoRA...). */
    public void setAdapters(LinearAdapters adapters) {
        this.adapters = adapters;
    }

    /** Installs an edit of the attention heads' outputs (JoLA). */
    public void setHeadEdits(HeadEdits headEdits) {
        this.headEdits = headEdits;
    }

    /** Hugging Face names of the linear layers a fine-tuning method may target (the output head excluded). */
    public java.util.List<String> linearModules() {
        java.util.List<String> modules = new java.util.ArrayList<>();
        for (int layer = 0; layer < config.layers(); layer++) {
            for (String name : java.util.List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                modules.add(LlamaWeights.layer(layer, name));
            }
        }
        return modules;
    }

    /**
     * Logits for every position of a batch of equal-length sequences.
     *
     * @param tokens [batch, time] token ids (int32 or int64)
     * @return [batch, time, vocab], attached to {@code tokens}' manager
     */
    public NDArray forward(NDArray tokens) {
        return forward(tokens, false);
    }

    /** As {@link #forward(NDArray)}; {@code training} turns on what only applies in training (adapter dropout). */
    public NDArray forward(NDArray tokens, boolean training) {
        NDManager caller = tokens.getManager();
        try (NDManager scope = caller.newSubManager()) {
            long batch = tokens.getShape().get(0);
            int time = (int) tokens.getShape().get(1);
            NDArray positions = scope.arange(0, time, 1, DataType.INT64);
            NDArray x = weights.get("model.embed_tokens.weight", new Shape(config.vocabSize(), config.hiddenSize()))
                    .get(tokens.reshape(-1).toType(DataType.INT64, false))
                    .reshape(batch, time, config.hiddenSize());
            x.attach(scope); // the lookup lands on the weights' manager; activations belong to this call
            NDArray mask = causalMasks.of(time);
            for (int layer = 0; layer < config.layers(); layer++) {
                x = x.add(attention(layer, rmsNorm(x, layerWeight(layer, "input_layernorm.weight")), positions, mask, training));
                x = x.add(feedForward(layer, rmsNorm(x, layerWeight(layer, "post_attention_layernorm.weight")), training));
            }
            x = rmsNorm(x, weights.get("model.norm.weight", new Shape(config.hiddenSize())));
            NDArray logits = linear(x, head());
            logits.attach(caller);
            return logits;
        }
    }

    private NDArray attention(int layer, NDArray x, NDArray positions, NDArray mask, boolean training) {
        Shape shape = x.getShape();
        long batch = shape.get(0);
        long time = shape.get(1);
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int headDim = config.headDim();
        NDArray q = adapted(layer, "self_attn.q_proj", x, projection(layer, "q_proj", config.hiddenSize()), training)
                .reshape(batch, time, heads, headDim);
        NDArray k = adapted(layer, "self_attn.k_proj", x, projection(layer, "k_proj", config.kvDim()), training)
                .reshape(batch, time, kvHeads, headDim);
        NDArray v = adapted(layer, "self_attn.v_proj", x, projection(layer, "v_proj", config.kvDim()), training)
                .reshape(batch, time, kvHeads, headDim);
        q = rope.apply(q, positions);
        k = rope.apply(k, positions);
        if (kvHeads != heads) { // grouped-query attention: key/value head j serves query heads j*n .. j*n+n-1
            k = k.repeat(2, heads / kvHeads);
            v = v.repeat(2, heads / kvHeads);
        }
        q = q.transpose(0, 2, 1, 3).mul(queryScale);           // [B, H, T, hd], scaled once instead of the scores
        k = k.transpose(0, 2, 3, 1);                           // [B, H, hd, T]
        v = v.transpose(0, 2, 1, 3);                           // [B, H, T, hd]
        NDArray weightsOfValues = q.matMul(k).add(mask).softmax(-1);
        NDArray perHead = weightsOfValues.matMul(v).transpose(0, 2, 1, 3); // [B, T, H, hd]
        NDArray context = headEdits.edit(layer, perHead, training).reshape(batch, time, config.hiddenSize());
        return adapted(layer, "self_attn.o_proj", context, weights.get(LlamaWeights.layer(layer, "self_attn.o_proj.weight"),
                new Shape(config.hiddenSize(), config.hiddenSize())), training);
    }

    private NDArray feedForward(int layer, NDArray x, boolean training) {
        Shape up = new Shape(config.intermediateSize(), config.hiddenSize());
        NDArray gate = adapted(layer, "mlp.gate_proj", x, weights.get(LlamaWeights.layer(layer, "mlp.gate_proj.weight"), up),
                training);
        NDArray lifted = adapted(layer, "mlp.up_proj", x, weights.get(LlamaWeights.layer(layer, "mlp.up_proj.weight"), up),
                training);
        NDArray activated = gate.mul(Activation.sigmoid(gate)).mul(lifted); // SiLU(gate) * up
        return adapted(layer, "mlp.down_proj", activated, weights.get(LlamaWeights.layer(layer, "mlp.down_proj.weight"),
                new Shape(config.hiddenSize(), config.intermediateSize())), training);
    }

    /**
     * A linear layer of the base model, with its bias when the checkpoint has one (Qwen2's q, k, v; Llama with
     * attention_bias), and the fine-tuning method's adaptation applied.
     */
    private NDArray adapted(int layer, String module, NDArray x, NDArray weight, boolean training) {
        String name = LlamaWeights.layer(layer, module);
        NDArray bias = weights.find(name + ".bias");
        NDArray base = x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        return adapters.apply(name, x, weight, base, training);
    }

    /** RMSNorm in float32: x / sqrt(mean(x^2) + eps) * w. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray rms = x.mul(x).mean(new int[] {-1}, true).add(eps).sqrt();
        return x.div(rms).mul(weight);
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return x.getNDArrayInternal().linear(x, weight, null).singletonOrThrow();
    }

    private NDArray projection(int layer, String name, int out) {
        return weights.get(LlamaWeights.layer(layer, "self_attn." + name + ".weight"), new Shape(out, config.hiddenSize()));
    }

    private NDArray layerWeight(int layer, String name) {
        return weights.get(LlamaWeights.layer(layer, name), new Shape(config.hiddenSize()));
    }

    private NDArray head() {
        Shape shape = new Shape(config.vocabSize(), config.hiddenSize());
        return config.tiedEmbeddings() ? weights.get("model.embed_tokens.weight", shape) : weights.get("lm_head.weight", shape);
    }

    private void checkShapes() {
        for (int layer = 0; layer < config.layers(); layer++) {
            projection(layer, "q_proj", config.hiddenSize());
            projection(layer, "k_proj", config.kvDim());
            projection(layer, "v_proj", config.kvDim());
        }
        head();
    }
}
