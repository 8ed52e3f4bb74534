package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;

/**
 * An edit of each attention head's output, after softmax(QK^T/sqrt(d))V and before the output projection: where
 * JoLA acts. The model calls it once per layer.
 */
public interface HeadEdits {

    HeadEdits NONE = (layer, heads, training) -> heads;

    /**
     * @param heads [batch, time, heads, headDim]
     * @return the edited heads, same shape
     */
    NDArray edit(int layer, NDArray heads, boolean training);
}
