package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.reference.Float64Attention;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real tiny-gpt2 checkpoint (Hugging Face layout, "transformer." prefix, Conv1D weights, tied head) through the
 * GPT-2 path: shapes, the tied head, and a forward pass against a float64 loop implementation of GPT-2's equations.
 */
class TinyGpt2Test {

    @Test
    void loadsAndComputesWhatTheEquationsSay() throws Exception {
        Path folder = SharedData.require("models/tiny-gpt2");
        try (NDManager manager = Compute.newManager()) {
            Gpt2Model model = Gpt2Model.read(folder, manager);
            assertThat(model.config().layers()).isEqualTo(2);
            assertThat(model.config().embedding()).isEqualTo(2);
            assertThat(model.config().heads()).isEqualTo(2);
            assertThat(model.config().inner()).isEqualTo(8); // n_inner null: 4 * n_embd
            assertThat(Safetensors.header(folder.resolve("model.safetensors")).tensors())
                    .noneMatch(t -> t.name().contains("lm_head")); // the head is the token embedding

            int[] tokens = {50256, 464, 2068, 7586, 21831, 50256};
            NDArray logits = model.forward(manager.create(new int[][] {tokens}));
            assertThat(logits.getShape()).isEqualTo(new Shape(1, tokens.length, 50257));

            Map<String, double[]> w = new HashMap<>();
            Safetensors.read(folder.resolve("model.safetensors"), manager)
                    .forEach((name, tensor) -> w.put(
                            name.replace("transformer.", ""),
                            tensor.toType(DataType.FLOAT64, false).toDoubleArray()));
            double[][] expected = float64Gpt2(w, tokens, 2, 2, 8, 50257);
            float[] actual = logits.toFloatArray();
            double worst = 0;
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < 50257; v++) {
                    worst = Math.max(worst, Math.abs(actual[t * 50257 + v] - expected[t][v]));
                }
            }
            assertThat(worst).isLessThan(1e-5);
        }
    }

    /** GPT-2 in plain float64 loops, with tensors as flat row-major arrays (Conv1D weights [in, out]). */
    private static double[][] float64Gpt2(
            Map<String, double[]> w, int[] tokens, int d, int heads, int inner, int vocab) {
        int time = tokens.length;
        int hd = d / heads;
        double[][] h = new double[time][d];
        for (int t = 0; t < time; t++) {
            for (int i = 0; i < d; i++) {
                h[t][i] = w.get("wte.weight")[tokens[t] * d + i] + w.get("wpe.weight")[t * d + i];
            }
        }
        for (int l = 0; l < 2; l++) {
            String p = "h." + l + ".";
            double[][] qkv = conv(norm(h, w, p + "ln_1"), w, p + "attn.c_attn", d, 3 * d);
            double[][] context = Float64Attention.causal(qkv, 0, qkv, d, qkv, 2 * d, heads, heads, hd);
            Float64Attention.addInPlace(h, conv(context, w, p + "attn.c_proj", d, d));
            double[][] f = conv(norm(h, w, p + "ln_2"), w, p + "mlp.c_fc", d, inner);
            for (double[] row : f) {
                for (int i = 0; i < row.length; i++) {
                    double x = row[i];
                    row[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                }
            }
            Float64Attention.addInPlace(h, conv(f, w, p + "mlp.c_proj", inner, d));
        }
        double[][] out = norm(h, w, "ln_f");
        double[][] logits = new double[time][vocab];
        for (int t = 0; t < time; t++) {
            for (int v = 0; v < vocab; v++) {
                for (int i = 0; i < d; i++) {
                    logits[t][v] += out[t][i] * w.get("wte.weight")[v * d + i];
                }
            }
        }
        return logits;
    }

    private static double[][] conv(double[][] x, Map<String, double[]> w, String module, int in, int out) {
        double[] weight = w.get(module + ".weight");
        double[] bias = w.get(module + ".bias");
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double sum = bias[o];
                for (int i = 0; i < in; i++) {
                    sum += x[t][i] * weight[i * out + o];
                }
                y[t][o] = sum;
            }
        }
        return y;
    }

    private static double[][] norm(double[][] x, Map<String, double[]> w, String module) {
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double mean = 0;
            for (double v : x[t]) {
                mean += v / x[t].length;
            }
            double variance = 0;
            for (double v : x[t]) {
                variance += (v - mean) * (v - mean) / x[t].length;
            }
            y[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) {
                y[t][i] = (x[t][i] - mean) / Math.sqrt(variance + 1e-5) * w.get(module + ".weight")[i]
                        + w.get(module + ".bias")[i];
            }
        }
        return y;
    }
}
