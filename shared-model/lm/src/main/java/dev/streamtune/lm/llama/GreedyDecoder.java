package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Greedy decoding: repeatedly append the most likely next token. It recomputes the whole prefix at every step;
 * generation with a key/value cache and sampling comes with the generation work of the runtime.
 */
public final class GreedyDecoder {

    private GreedyDecoder() {
    }

    /** The prompt followed by up to {@code maxNewTokens} tokens, stopping early at {@code stopToken}. */
    public static int[] generate(LlamaModel model, int[] prompt, int maxNewTokens, int stopToken, NDManager manager) {
        int[] tokens = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int length = prompt.length;
        for (int step = 0; step < maxNewTokens && length < model.config().maxPositions(); step++) {
            try (NDManager scope = manager.newSubManager()) {
                NDArray input = scope.create(Arrays.copyOf(tokens, length), new Shape(1, length));
                NDArray last = model.forward(input).get(new NDIndex("0, -1"));
                int next = (int) last.argMax().getLong();
                tokens[length++] = next;
                if (next == stopToken) {
                    break;
                }
            }
        }
        return Arrays.copyOf(tokens, length);
    }
}
