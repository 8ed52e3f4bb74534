package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.runtime.Compute;

/**
 * The output rows of a query or key projection (its weight's rows, a LoRA B's rows, a DoRA magnitude) moved between
 * the two {@link RopeStyle} pairings. Head by head, llama2.c's pair i is rows (2i, 2i+1) and Hugging Face's is rows
 * (i, i + d/2); Hugging Face's conversion script for Meta's checkpoints permutes the same way. The rows of other
 * projections, and every projection's input columns, are the same in both layouts.
 */
public final class RotaryRows {

    private RotaryRows() {}

    /**
     * A linear layer's output rows (weight, LoRA B, DoRA magnitude) in the Hugging Face layout: for a model with
     * llama2.c's interleaved rotary pairs, the query and key rows permuted to halves as a new array on {@code scope};
     * otherwise {@code rows} itself.
     */
    static NDArray toHuggingFace(LlamaConfig config, String module, NDArray rows, NDManager scope) {
        int heads = rotaryHeads(config, module);
        return heads == 0 ? rows : interleavedToHalves(rows, heads, config.headDim(), scope);
    }

    /** The inverse of {@link #toHuggingFace}. */
    static NDArray fromHuggingFace(LlamaConfig config, String module, NDArray rows, NDManager scope) {
        int heads = rotaryHeads(config, module);
        return heads == 0 ? rows : halvesToInterleaved(rows, heads, config.headDim(), scope);
    }

    /** The heads whose rows the module's layout pairs differently from Hugging Face's; 0 when it does not. */
    private static int rotaryHeads(LlamaConfig config, String module) {
        if (config.ropeStyle() != RopeStyle.INTERLEAVED) {
            return 0;
        }
        return module.endsWith("self_attn.q_proj")
                ? config.heads()
                : module.endsWith("self_attn.k_proj") ? config.kvHeads() : 0;
    }

    /**
     * {@code rows} [heads x headDim, ...] from the interleaved pairing to the halves pairing, as a new array on
     * {@code scope}.
     */
    public static NDArray interleavedToHalves(NDArray rows, int heads, int headDim, NDManager scope) {
        return regroup(rows, heads, headDim, headDim / 2, 2, scope);
    }

    /** The inverse of {@link #interleavedToHalves}. */
    public static NDArray halvesToInterleaved(NDArray rows, int heads, int headDim, NDManager scope) {
        return regroup(rows, heads, headDim, 2, headDim / 2, scope);
    }

    /** Per head, the rows seen as [outer, inner] are transposed to [inner, outer]. */
    private static NDArray regroup(NDArray rows, int heads, int headDim, long outer, long inner, NDManager scope) {
        Shape shape = rows.getShape();
        if (headDim % 2 != 0 || shape.dimension() == 0 || shape.get(0) != (long) heads * headDim) {
            throw new IllegalArgumentException(
                    "rotary rows of " + heads + " heads x " + headDim + " dimensions expected, got shape " + shape);
        }
        long columns = shape.size() / shape.get(0);
        // the intermediate views stay on a scope of their own, not on the (long-lived) manager of the input
        try (NDManager temporary = scope.newSubManager()) {
            NDArray grouped = Compute.scoped(rows.reshape(heads, outer, inner, columns), temporary);
            return Compute.scoped(grouped.transpose(0, 2, 1, 3).reshape(shape), scope);
        }
    }
}
