package dev.streamtune.lm;

import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.attention.AttentionLayout;
import dev.streamtune.lm.attention.KvCache;

/**
 * What every layer of one forward pass shares, built once per call: the arrays' scope, where tokens sit and what they
 * attend to, the cache of a generation step, and whether the pass trains.
 *
 * @param scope    the manager the pass's intermediate arrays belong to, closed when the call returns
 * @param layout   each token's position and the attention mask
 * @param cache    the keys and values of earlier generation steps, which this pass appends to; null outside generation
 * @param training turns on what only applies in training (adapter dropout, stochastic gates)
 */
public record ForwardPass(NDManager scope, AttentionLayout layout, KvCache cache, boolean training) {

    /**
     * Whether linear layers reading the same input (q, k, v; gate, up) multiply as one product on their concatenated
     * weights: worth the copy of the weights when many tokens go through, not when generating one token per row from
     * a cache.
     */
    public boolean fused() {
        return cache == null;
    }
}
