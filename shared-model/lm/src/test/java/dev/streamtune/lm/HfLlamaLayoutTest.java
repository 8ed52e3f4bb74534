package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K converted to the Hugging Face Llama layout (query and key rows permuted from interleaved rotary pairs
 * to halves), written as a checkpoint folder and loaded through the Hugging Face path, gives the same logits: this
 * proves the folder loader, safetensors round trip and both rotary pairings at once.
 */
class HfLlamaLayoutTest {

    @TempDir
    Path folder;

    @Test
    void theSameModelInHuggingFaceLayoutGivesTheSameLogits() throws Exception {
        Path checkpoint = SharedModels.require("models/stories260K/stories260K.bin");
        Stories260kReference reference = Stories260kReference.read(SharedModels.require("models/stories260K/REFERENCE.md"));
        try (NDManager manager = Compute.newManager()) {
            Llama2cCheckpoint.Loaded original = Llama2cCheckpoint.read(checkpoint, manager);
            LlamaConfig config = original.config();
            Map<String, NDArray> hfTensors = new LinkedHashMap<>();
            original.weights().asMap().forEach((name, tensor) -> {
                boolean rotated = name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight");
                int heads = name.endsWith("q_proj.weight") ? config.heads() : config.kvHeads();
                hfTensors.put(name, rotated ? toHalves(tensor, heads, config.headDim()) : tensor);
            });
            Safetensors.write(folder.resolve("model.safetensors"), hfTensors, Map.of("format", "pt"));
            Files.writeString(folder.resolve("config.json"), """
                    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                     "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                     "num_key_value_heads": %d, "vocab_size": %d, "max_position_embeddings": %d,
                     "rms_norm_eps": 1e-05, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
                     "tie_word_embeddings": true, "torch_dtype": "float32"}
                    """.formatted(config.hiddenSize(), config.intermediateSize(), config.layers(), config.heads(),
                    config.kvHeads(), config.vocabSize(), config.maxPositions()));

            Llama2cCheckpoint.Loaded converted = HfLlamaCheckpoint.read(folder, manager);
            LlamaModel interleaved = new LlamaModel(config, original.weights(), manager);
            LlamaModel halves = new LlamaModel(converted.config(), converted.weights(), manager);

            int[] input = reference.forcedInput();
            NDArray tokens = manager.create(input, new Shape(1, input.length));
            float[] expected = interleaved.forward(tokens).toFloatArray();
            float[] actual = halves.forward(tokens).toFloatArray();
            float worst = 0;
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            }
            // Same arithmetic in another order: float32 round-off only (measured 1.1e-5 on logits up to 17).
            assertThat(worst).as("largest logit difference").isLessThan(5e-5f);
        }
    }

    /** The row permutation of Hugging Face's conversion script: per head, pair rows (2i, 2i+1) become (i, i + d/2). */
    private static NDArray toHalves(NDArray weight, int heads, int headDim) {
        long in = weight.getShape().get(1);
        return weight.reshape(heads, headDim / 2, 2, in).transpose(0, 2, 1, 3).reshape(heads * headDim, in);
    }
}
