package dev.streamtune.lm;

import java.util.List;

/** The shape of a decoder-only model that does not depend on its architecture ({@link DecoderModel}). */
public interface DecoderConfig {

    int layers();

    /** Query heads per attention layer. */
    int heads();

    /** Width of one attention head. */
    int headDim();

    int vocabSize();

    /** Longest sequence the position embeddings cover. */
    int maxPositions();

    /** Hugging Face names of the linear layers a fine-tuning method may target (the output head excluded). */
    List<String> linearModules();

    /**
     * How many parameters the model holds (embeddings, every layer's weights, biases and norms, the output head
     * unless tied): what its weights, gradients and optimiser state are sized by, known before anything is allocated.
     */
    long parameters();

    /**
     * Floating-point operations of the largest matrix multiply in a pass over {@code tokens} tokens (2 x tokens x
     * in x out), counting fused products and the output head: what {@code Compute.threadsFor} sizes the CPU threads by.
     */
    double largestProductFlops(long tokens);
}
