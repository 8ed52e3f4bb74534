package dev.streamtune.lm.llama;

import dev.streamtune.lm.DecoderConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The shape of a Llama-family decoder.
 *
 * @param hiddenSize       model width (d_model)
 * @param intermediateSize width of the SwiGLU feed-forward
 * @param kvHeads          key/value heads; fewer than {@code heads} is grouped-query attention
 * @param tiedEmbeddings   the output head reuses the token embedding matrix
 * @param ropeScaling      Llama 3 frequency scaling, or null
 * @param family           where the norms sit (Llama and Qwen2 pre-norm, OLMo-2 post-norm with QK-norm)
 */
public record LlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int vocabSize,
        int maxPositions,
        double ropeTheta,
        double rmsNormEps,
        RopeStyle ropeStyle,
        boolean tiedEmbeddings,
        RopeScaling ropeScaling,
        ModelFamily family)
        implements DecoderConfig {

    /** A Llama (pre-norm) configuration. */
    public LlamaConfig(
            int hiddenSize,
            int intermediateSize,
            int layers,
            int heads,
            int kvHeads,
            int vocabSize,
            int maxPositions,
            double ropeTheta,
            double rmsNormEps,
            RopeStyle ropeStyle,
            boolean tiedEmbeddings,
            RopeScaling ropeScaling) {
        this(
                hiddenSize,
                intermediateSize,
                layers,
                heads,
                kvHeads,
                vocabSize,
                maxPositions,
                ropeTheta,
                rmsNormEps,
                ropeStyle,
                tiedEmbeddings,
                ropeScaling,
                ModelFamily.LLAMA);
    }

    public LlamaConfig {
        Objects.requireNonNull(family, "family");
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException(
                    "hidden size " + hiddenSize + " is not a multiple of " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    heads + " query heads cannot share " + kvHeads + " key/value heads evenly");
        }
    }

    @Override
    public int headDim() {
        return hiddenSize / heads;
    }

    /**
     * Floating-point operations of the largest matrix multiply in a pass over {@code tokens} tokens (2 x tokens x
     * in x out): the fused gate/up, the fused q/k/v or the output head, whichever is largest. What
     * {@code Compute.threadsFor} reads the problem's size from.
     */
    @Override
    public double largestProductFlops(long tokens) {
        long out = Math.max(Math.max(2L * intermediateSize(), (long) hiddenSize() + 2L * kvDim()), vocabSize());
        return 2.0 * tokens * hiddenSize() * out;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    /** Hugging Face names of the linear layers a fine-tuning method may target (the output head excluded). */
    @Override
    public List<String> linearModules() {
        List<String> modules = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            for (String name : List.of(
                    "self_attn.q_proj",
                    "self_attn.k_proj",
                    "self_attn.v_proj",
                    "self_attn.o_proj",
                    "mlp.gate_proj",
                    "mlp.up_proj",
                    "mlp.down_proj")) {
                modules.add(LlamaWeights.layer(layer, name));
            }
        }
        return modules;
    }

    @Override
    public long parameters() {
        long h = hiddenSize;
        long kv = (long) kvHeads * headDim();
        long attention = 2 * h * h + 2 * h * kv;
        if (family == ModelFamily.QWEN2) {
            attention += h + 2 * kv; // q, k and v biases
        }
        if (family.qkNorm()) {
            attention += h + kv;
        }
        long layer = attention + 3 * h * intermediateSize + 2 * h;
        long embedding = (long) vocabSize * h;
        return embedding + (long) layers * layer + h + (tiedEmbeddings ? 0 : embedding);
    }
}
