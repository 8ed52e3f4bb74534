package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K written as a Hugging Face checkpoint folder (query and key rows permuted from interleaved rotary pairs
 * to halves by HfCheckpointWriter) and loaded through the Hugging Face path gives the same logits: this proves the
 * writer, the folder loader, the safetensors round trip and both rotary pairings at once.
 */
class HfLlamaLayoutTest {

    @TempDir
    Path folder;

    @Test
    void theSameModelInHuggingFaceLayoutGivesTheSameLogits() throws Exception {
        Path checkpoint = SharedData.require("models/stories260K/stories260K.bin");
        Stories260kReference reference =
                Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
        try (NDManager manager = Compute.newManager()) {
            Llama2cCheckpoint.Loaded original = Llama2cCheckpoint.read(checkpoint, manager);
            LlamaConfig config = original.config();
            HfCheckpointWriter.write(folder, config, original.weights());

            Llama2cCheckpoint.Loaded converted = HfLlamaCheckpoint.read(folder, manager);
            LlamaModel interleaved = new LlamaModel(config, original.weights(), manager);
            LlamaModel halves = new LlamaModel(converted.config(), converted.weights(), manager);

            int[] input = reference.forcedInput();
            NDArray tokens = manager.create(input, new Shape(1, input.length));
            float[] expected = interleaved.forward(tokens).toFloatArray();
            float[] actual = halves.forward(tokens).toFloatArray();
            // Same arithmetic in another order: float32 round-off only (measured 1.1e-5 on logits up to 17).
            assertThat(Differences.largest(actual, expected))
                    .as("largest logit difference")
                    .isLessThan(5e-5f);
        }
    }
}
