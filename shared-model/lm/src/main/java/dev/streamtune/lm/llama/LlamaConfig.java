package dev.streamtune.lm.llama;

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
public record LlamaConfig(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads, int vocabSize,
                          int maxPositions, double ropeTheta, double rmsNormEps, RopeStyle ropeStyle,
                          boolean tiedEmbeddings, RopeScaling ropeScaling, ModelFamily family) {

    /** A Llama (pre-norm) configuration. */
    public LlamaConfig(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads, int vocabSize,
                       int maxPositions, double ropeTheta, double rmsNormEps, RopeStyle ropeStyle,
                       boolean tiedEmbeddings, RopeScaling ropeScaling) {
        this(hiddenSize, intermediateSize, layers, heads, kvHeads, vocabSize, maxPositions, ropeTheta, rmsNormEps,
                ropeStyle, tiedEmbeddings, ropeScaling, ModelFamily.LLAMA);
    }

    public LlamaConfig {
        java.util.Objects.requireNonNull(family, "family");
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " is not a multiple of " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " key/value heads evenly");
        }
    }

    public int headDim() {
        return hiddenSize / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }
}
