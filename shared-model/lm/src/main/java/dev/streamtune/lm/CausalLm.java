package dev.streamtune.lm;

import ai.djl.ndarray.NDArray;
import dev.streamtune.lm.attention.KvCache;
import dev.streamtune.lm.attention.Packing;

/** A decoder-only language model as training, evaluation and generation see it, whatever its architecture. */
public interface CausalLm {

    /**
     * Logits for every position.
     *
     * @param tokens  [batch, time] token ids
     * @param packing document starts of packed rows, or null for one document per row
     * @param training turns on what only applies in training (adapter dropout, stochastic gates)
     * @return [batch, time, vocab] on {@code tokens}' manager
     */
    NDArray forward(NDArray tokens, Packing packing, boolean training);

    /** Logits of the next tokens given the cache, which then holds them too: one step of generation. */
    NDArray forward(NDArray tokens, KvCache cache);

    /**
     * The linear layers a fine-tuning method may target (the output head excluded), by the module names PEFT uses,
     * with their frozen weights seen as [out, in].
     */
    java.util.Map<String, NDArray> linearWeights();

    /** Installs LoRA/DoRA on the layers of {@link #linearWeights()} they target; null takes them off. */
    void setAdapters(dev.streamtune.lm.llama.LinearAdapters adapters);

    int layers();

    int vocabSize();

    /** Longest sequence the position embeddings cover. */
    int maxPositions();
}
