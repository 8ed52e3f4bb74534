package dev.streamtune.lm.llama;

/**
 * How rotary embeddings pair up the dimensions of a head. Both rotate pair i by position * theta^(-2i/d); they
 * differ only in which dimensions form pair i, so converting a checkpoint between them permutes the rows of the
 * query and key projections.
 */
public enum RopeStyle {
    /** Hugging Face: dimension j pairs with j + d/2 ({@code rotate_half}). */
    HALF,
    /** Meta's original code and llama2.c: dimensions 2i and 2i+1 form a pair. */
    INTERLEAVED
}
