package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.ModelFamily;
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
 * Tiny random Qwen2 (grouped-query attention, q/k/v biases, untied head, rope_theta 1e6) and OLMo-2 (post-norm,
 * whole-vector QK-norm before RoPE) checkpoints written in the Hugging Face layout by the test, loaded back, and
 * checked against the float64 re-implementation of the same equations.
 */
class HfFamiliesForwardTest {

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
    void qwen2MatchesTheFloat64Equations() throws Exception {
        assertThat(worstLogitError("qwen2", 1_000_000.0)).isLessThan(1e-4);
    }

    @Test
    void olmo2MatchesTheFloat64Equations() throws Exception {
        assertThat(worstLogitError("olmo2", 500_000.0)).isLessThan(1e-4);
    }

    @Test
    void olmo2IsNotLlamaWithExtraTensors() throws Exception {
        // The same OLMo-2 tensors read as pre-norm Llama (if the placement were ignored) give other logits.
        worstLogitError("olmo2", 500_000.0);
        Map<String, double[][]> storedMatrices = new HashMap<>();
        matrices.forEach((name, rows) -> storedMatrices.put(name, toDouble(toFloat(rows))));
        Map<String, double[]> storedVectors = new HashMap<>();
        vectors.forEach((name, values) -> storedVectors.put(name, toDouble(toFloat(values))));
        for (int l = 0; l < LAYERS; l++) {
            storedVectors.put(
                    "model.layers." + l + ".input_layernorm.weight",
                    storedVectors.get("model.layers." + l + ".post_attention_layernorm.weight"));
        }
        double[][] asOlmo = new Float64Decoder(
                        storedMatrices, storedVectors, HIDDEN, LAYERS, HEADS, KV_HEADS, 500_000.0, 1e-6, true)
                .forward(TOKENS);
        double[][] asLlama = new Float64Decoder(
                        storedMatrices, storedVectors, HIDDEN, LAYERS, HEADS, KV_HEADS, 500_000.0, 1e-6, false)
                .forward(TOKENS);
        assertThat(Math.abs(asOlmo[3][7] - asLlama[3][7]) + Math.abs(asOlmo[9][1] - asLlama[9][1]))
                .isGreaterThan(1e-2);
    }

    private static final int[] TOKENS = {3, 17, 42, 5, 63, 0, 21, 8, 8, 30};

    /** Writes a random checkpoint of the family, loads it through the HF path, and compares with float64. */
    private double worstLogitError(String modelType, double theta) throws Exception {
        boolean olmo2 = modelType.equals("olmo2");
        int kvDim = HIDDEN / HEADS * KV_HEADS;
        matrix("model.embed_tokens.weight", VOCAB, HIDDEN, 1.0);
        matrix("lm_head.weight", VOCAB, HIDDEN, 0.2);
        vector("model.norm.weight", HIDDEN, 1.0, 0.1);
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            vector(p + "post_attention_layernorm.weight", HIDDEN, 1.0, 0.1);
            if (olmo2) {
                vector(p + "post_feedforward_layernorm.weight", HIDDEN, 1.0, 0.1);
                vector(p + "self_attn.q_norm.weight", HIDDEN, 1.0, 0.3);
                vector(p + "self_attn.k_norm.weight", kvDim, 1.0, 0.3);
            } else {
                vector(p + "input_layernorm.weight", HIDDEN, 1.0, 0.1);
                vector(p + "self_attn.q_proj.bias", HIDDEN, 0.0, 0.5);
                vector(p + "self_attn.k_proj.bias", kvDim, 0.0, 0.5);
                vector(p + "self_attn.v_proj.bias", kvDim, 0.0, 0.5);
            }
            matrix(p + "self_attn.q_proj.weight", HIDDEN, HIDDEN, 0.2);
            matrix(p + "self_attn.k_proj.weight", kvDim, HIDDEN, 0.2);
            matrix(p + "self_attn.v_proj.weight", kvDim, HIDDEN, 0.2);
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
            // OLMo-2 files put rope_theta under rope_parameters in newer transformers: exercise that form there.
            String rope = olmo2
                    ? "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": " + theta + "}"
                    : "\"rope_theta\": " + theta;
            Files.writeString(folder.resolve("config.json"), """
                    {"architectures": ["%s"], "model_type": "%s", "hidden_size": %d,
                     "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                     "num_key_value_heads": %d, "vocab_size": %d, "max_position_embeddings": 128,
                     "rms_norm_eps": 1e-06, %s, "tie_word_embeddings": false,
                     "use_sliding_window": false, "torch_dtype": "float32"}
                    """.formatted(
                            olmo2 ? "Olmo2ForCausalLM" : "Qwen2ForCausalLM",
                            modelType,
                            HIDDEN,
                            INTERMEDIATE,
                            LAYERS,
                            HEADS,
                            KV_HEADS,
                            VOCAB,
                            rope));

            Llama2cCheckpoint.Loaded loaded = HfLlamaCheckpoint.read(folder, manager);
            assertThat(loaded.config().family()).isEqualTo(olmo2 ? ModelFamily.OLMO2 : ModelFamily.QWEN2);
            assertThat(loaded.config().ropeTheta()).isEqualTo(theta);
            LlamaModel model = new LlamaModel(loaded.config(), loaded.weights(), manager);
            float[] actual = model.forward(manager.create(new int[][] {TOKENS})).toFloatArray();

            // The float64 decoder reads the weights as they were stored: float32 values.
            Map<String, double[][]> storedMatrices = new HashMap<>();
            matrices.forEach((name, rows) -> storedMatrices.put(name, toDouble(toFloat(rows))));
            Map<String, double[]> storedVectors = new HashMap<>();
            vectors.forEach((name, values) -> storedVectors.put(name, toDouble(toFloat(values))));
            double[][] expected = new Float64Decoder(
                            storedMatrices, storedVectors, HIDDEN, LAYERS, HEADS, KV_HEADS, theta, 1e-6, olmo2)
                    .forward(TOKENS);
            double worst = 0;
            for (int t = 0; t < TOKENS.length; t++) {
                for (int v = 0; v < VOCAB; v++) {
                    worst = Math.max(worst, Math.abs(actual[t * VOCAB + v] - expected[t][v]));
                }
            }
            return worst;
        }
    }

    @Test
    void refusesAModelTypeOutsideTheFamily() throws Exception {
        Files.writeString(folder.resolve("config.json"), "{\"model_type\": \"mistral\", \"hidden_size\": 32}");
        try (NDManager manager = Compute.newManager()) {
            assertThatThrownBy(() -> HfLlamaCheckpoint.read(folder, manager))
                    .hasMessageContaining("config.json")
                    .hasMessageContaining("model_type 'mistral'");
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
