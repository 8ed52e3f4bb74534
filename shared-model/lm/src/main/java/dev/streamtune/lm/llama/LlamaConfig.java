package dev.streamtune.lm.llama;

/**
 * The shape of a Llama-family decoder.
 *
 * @param hiddenSize       model width (d_model)
 * @param intermediateSize width of the SwiGLU feed-forward
 * @param kvHeads          key/value heads; fewer than {@code heads} is grouped-query attention
 * @param tiedEmbeddings   the output head reuses the token embedding matrix
 * @param ropeScaling      Llama 3 frequency scaling, or null
 */
public record LlamaConfig(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads, int vocabSize,
                          int maxPositions, double ropeTheta, double rmsNormEps, RopeStyle ropeStyle,
                          boolean tiedEmbeddings, RopeScaling ropeScaling) {

    public LlamaConfig {
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
