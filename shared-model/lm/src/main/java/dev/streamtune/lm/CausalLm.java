package dev.streamtune.lm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.adapters.LinearAdapters;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.attention.KvCache;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.llama.HeadEdits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

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

    /**
     * Forward and backward of {@code objective(logits)} with activation checkpointing: the decoder layers'
     * activations are recomputed layer by layer during the backward pass instead of kept, so memory holds one
     * layer's graph at a time. Gradients accumulate into the trainable tensors as an ordinary backward pass would
     * put them there.
     *
     * @throws UnsupportedOperationException where the architecture has no checkpointed path
     *                                       ({@link #supportsCheckpointing()})
     */
    default void checkpointedBackward(
            NDArray tokens,
            Packing packing,
            boolean training,
            Function<NDArray, NDArray> objective,
            GradientCollector collector) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no activation checkpointing");
    }

    /** Whether {@link #checkpointedBackward} is available. */
    default boolean supportsCheckpointing() {
        return false;
    }

    /** Logits of the next tokens given the cache, which then holds them too: one step of generation. */
    NDArray forward(NDArray tokens, KvCache cache);

    /**
     * The linear layers a fine-tuning method may target (the output head excluded), by the module names PEFT uses,
     * with their frozen weights seen as [out, in].
     */
    Map<String, NDArray> linearWeights();

    /** The shapes [out, in] of the layers of {@link #linearWeights()}, also for a base held in 4 bits. */
    default Map<String, Shape> linearShapes() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        linearWeights().forEach((module, weight) -> shapes.put(module, weight.getShape()));
        return shapes;
    }

    /**
     * One linear layer's frozen weight [out, in] as the forward computes with it: the weight itself, or for a base
     * held in 4 bits its dequantised values as a new array on {@code scope}.
     */
    default NDArray linearWeight(String module, NDManager scope) {
        NDArray weight = linearWeights().get(module);
        if (weight == null) {
            throw new IllegalArgumentException("the model has no linear layer " + module);
        }
        return weight;
    }

    /** The dtype the model's weights and activations compute in. */
    default DataType computeDtype() {
        return linearWeights().values().iterator().next().getDataType();
    }

    /**
     * Floating-point operations of the largest matrix multiply a forward pass over {@code tokens} tokens makes
     * (2 x tokens x in x out): what {@code Compute.threadsFor} sizes the CPU threads by. By default the largest of
     * {@link #linearShapes()}; architectures with fused products or a larger output head say so.
     */
    default double largestProductFlops(long tokens) {
        double largest = 0;
        for (Shape shape : linearShapes().values()) {
            largest = Math.max(largest, (double) shape.get(0) * shape.get(1));
        }
        return 2.0 * tokens * largest;
    }

    /**
     * A linear layer's output rows (its weight's rows, a LoRA B, a DoRA magnitude) in the Hugging Face layout that
     * PEFT and transformers files hold: {@code rows} itself where the model keeps that layout, else a reordered copy
     * on {@code scope} (a llama2.c checkpoint's query and key rows, which pair rotary dimensions differently).
     */
    default NDArray rowsToHuggingFace(String module, NDArray rows, NDManager scope) {
        return rows;
    }

    /** The inverse of {@link #rowsToHuggingFace}: rows read from a Hugging Face file in this model's layout. */
    default NDArray rowsFromHuggingFace(String module, NDArray rows, NDManager scope) {
        return rows;
    }

    /** Installs LoRA/DoRA on the layers of {@link #linearWeights()} they target; null takes them off. */
    void setAdapters(LinearAdapters adapters);

    /**
     * Installs an edit of every attention layer's head outputs (JoLA); null takes it off.
     *
     * @throws UnsupportedOperationException where the architecture has no head edits
     */
    default void setHeadEdits(HeadEdits edits) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no attention head edits");
    }

    /** Query heads per attention layer. */
    default int attentionHeads() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not say its attention heads");
    }

    /** Width of one attention head. */
    default int headDim() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not say its head width");
    }

    /** Every weight of the model, for full fine-tuning, in the model's order of its tensors. */
    default Collection<NDArray> allWeights() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not expose all its weights");
    }

    /** Writes the model as a Hugging Face checkpoint folder (config.json, model.safetensors). */
    default void writeHuggingFace(Path folder) throws IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be written");
    }

    /**
     * Writes this base with {@code adapters} folded in as a Hugging Face checkpoint folder, in float32 and from the
     * dequantised weights of a 4-bit base; this model is left as it is.
     */
    default void writeMerged(LoraAdapters adapters, Path folder, NDManager manager) throws IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot merge adapters");
    }

    int layers();

    int vocabSize();

    /** Longest sequence the position embeddings cover. */
    int maxPositions();
}
