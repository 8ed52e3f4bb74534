package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.reference.Float64Decoder;
import dev.streamtune.lm.runtime.Compute;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny random Qwen2 (grouped-query attention, q/k/v biases, untied head, rope_theta 1e6) written in the Hugging
 * Face layout by the test, loaded back, and checked against the float64 re-implementation of the same equations.
 */
class Qwen2ForwardTest {

    private static final int HIDDEN = 32;
    private static final int INTERMEDIATE = 48;
    private static final int LAYERS = 2;
    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int VOCAB = 64;

    @TempDir
    Path folder;

    private final Random random = new Random(2024);
    private final Map<String, double[][]> matrices = new HashMap<>();
    private final Map<String, double[]> vectors = new HashMap<>();

    @Test
    void matchesTheFloat64Equations() throws Exception {
        int kvDim = HIDDEN / HEADS * KV_HEADS;
        matrix("model.embed_tokens.weight", VOCAB, HIDDEN, 1.0);
        matrix("lm_head.weight", VOCAB, HIDDEN, 0.2);
        vector("model.norm.weight", HIDDEN, 1.0, 0.1);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            vector(p + "input_layernorm.weight", HIDDEN, 1.0, 0.1);
            vector(p + "post_attention_layernorm.weight", HIDDEN, 1.0, 0.1);
            matrix(p + "self_attn.q_proj.weight", HIDDEN, HIDDEN, 0.2);
            matrix(p + "self_attn.k_proj.weight", kvDim, HIDDEN, 0.2);
            matrix(p + "self_attn.v_proj.weight", kvDim, HIDDEN, 0.2);
            vector(p + "self_attn.q_proj.bias", HIDDEN, 0.0, 0.5);
            vector(p + "self_attn.k_proj.bias", kvDim, 0.0, 0.5);
            vector(p + "self_attn.v_proj.bias", kvDim, 0.0, 0.5);
            matrix(p + "self_attn.o_proj.weight", HIDDEN, HIDDEN, 0.2);
            matrix(p + "mlp.gate_proj.weight", INTERMEDIATE, HIDDEN, 0.2);
            matrix(p + "mlp.up_proj.weight", INTERMEDIATE, HIDDEN, 0.2);
            matrix(p + "mlp.down_proj.weight", HIDDEN, INTERMEDIATE, 0.2);
        }
        try (NDManager manager = Compute.newManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            matrices.forEach((name, rows) -> tensors.put(name, manager.create(toFloat(rows))));
            vectors.forEach((name, values) -> tensors.put(name, manager.create(toFloat(values))));
            Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            Files.writeString(folder.resolve("config.json"), """
                    {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": %d,
                     "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                     "num_key_value_heads": %d, "vocab_size": %d, "max_position_embeddings": 128,
                     "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": false,
                     "use_sliding_window": false, "torch_dtype": "float32"}
                    """.formatted(HIDDEN, INTERMEDIATE, LAYERS, HEADS, KV_HEADS, VOCAB));

            Llama2cCheckpoint.Loaded loaded = HfLlamaCheckpoint.read(folder, manager);
            LlamaModel model = new LlamaModel(loaded.config(), loaded.weights(), manager);
            int[] tokens = {3, 17, 42, 5, 63, 0, 21, 8, 8, 30};
            float[] actual = model.forward(manager.create(new int[][] {tokens})).toFloatArray();

            // The float64 decoder reads the weights as they were stored: float32 values.
            Map<String, double[][]> storedMatrices = new HashMap<>();
            matrices.forEach((name, rows) -> storedMatrices.put(name, toDouble(toFloat(rows))));
            Map<String, double[]> storedVectors = new HashMap<>();
            vectors.forEach((name, values) -> storedVectors.put(name, toDouble(toFloat(values))));
            double[][] expected = new Float64Decoder(storedMatrices, storedVectors, HIDDEN, LAYERS, HEADS, KV_HEADS,
                    1_000_000.0, 1e-6).forward(tokens);
            double worst = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < VOCAB; v++) {
                    worst = Math.max(worst, Math.abs(actual[t * VOCAB + v] - expected[t][v]));
                }
            }
            assertThat(worst).isLessThan(1e-4);
        }
    }

    @Test
    void refusesToRunOlmo2WeightsInTheLlamaDecoder() throws Exception {
        Files.writeString(folder.resolve("config.json"), "{\"model_type\": \"olmo2\", \"hidden_size\": 32}");
        try (NDManager manager = Compute.newManager()) {
            assertThatThrownBy(() -> HfLlamaCheckpoint.read(folder, manager))
                    .hasMessageContaining("OLMo-2 places its norms after attention and MLP");
        }
    }

    private void matrix(String name, int rows, int columns, double scale) {
        double[][] values = new double[rows][columns];
        for (double[] row : values) {
            for (int i = 0; i < columns; i++) {
                row[i] = random.nextGaussian() * scale;
            }
        }
        matrices.put(name, values);
    }

    private void vector(String name, int size, double mean, double scale) {
        double[] values = new double[size];
        for (int i = 0; i < size; i++) {
            values[i] = mean + random.nextGaussian() * scale;
        }
        vectors.put(name, values);
    }

    private static float[][] toFloat(double[][] rows) {
        float[][] out = new float[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            out[r] = toFloat(rows[r]);
        }
        return out;
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    private static double[][] toDouble(float[][] rows) {
        double[][] out = new double[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            out[r] = toDouble(rows[r]);
        }
        return out;
    }

    private static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
