package dev.streamtune.lm.reference;

import java.util.Map;

/**
 * A straightforward float64 re-implementation of the Llama-family equations (halves RoPE, grouped-query causal
 * attention, SwiGLU, RMSNorm; optional q/k/v biases; OLMo-2's post-norm and QK-norm), with plain loops and no DJL, to check the DJL model against.
 * Weights are row-major [out][in] arrays under Hugging Face names.
 */
public final class Float64Decoder {

    private final Map<String, double[][]> matrices;
    private final Map<String, double[]> vectors;
    private final int hidden;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final double theta;
    private final double eps;
    private final boolean olmo2;

    public Float64Decoder(
            Map<String, double[][]> matrices,
            Map<String, double[]> vectors,
            int hidden,
            int layers,
            int heads,
            int kvHeads,
            double theta,
            double eps) {
        this(matrices, vectors, hidden, layers, heads, kvHeads, theta, eps, false);
    }

    /** @param olmo2 OLMo-2's layout: norms on the sublayers' outputs, and RMSNorm over the whole q and k vectors */
    public Float64Decoder(
            Map<String, double[][]> matrices,
            Map<String, double[]> vectors,
            int hidden,
            int layers,
            int heads,
            int kvHeads,
            double theta,
            double eps,
            boolean olmo2) {
        this.olmo2 = olmo2;
        this.matrices = matrices;
        this.vectors = vectors;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.theta = theta;
        this.eps = eps;
    }

    /** [time][vocab] logits for one sequence. */
    public double[][] forward(int[] tokens) {
        int time = tokens.length;
        int headDim = hidden / heads;
        double[][] x = new double[time][];
        for (int t = 0; t < time; t++) {
            x[t] = matrices.get("model.embed_tokens.weight")[tokens[t]].clone();
        }
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] n = olmo2 ? x : norm(x, vectors.get(p + "input_layernorm.weight"));
            double[][] q = project(n, p + "self_attn.q_proj");
            double[][] k = project(n, p + "self_attn.k_proj");
            double[][] v = project(n, p + "self_attn.v_proj");
            if (olmo2) {
                q = norm(q, vectors.get(p + "self_attn.q_norm.weight"));
                k = norm(k, vectors.get(p + "self_attn.k_norm.weight"));
            }
            rotate(q, heads, headDim);
            rotate(k, kvHeads, headDim);
            double[][] context = Float64Attention.causal(q, 0, k, 0, v, 0, heads, kvHeads, headDim);
            double[][] attended = project(context, p + "self_attn.o_proj");
            Float64Attention.addInPlace(
                    x, olmo2 ? norm(attended, vectors.get(p + "post_attention_layernorm.weight")) : attended);
            double[][] m = olmo2 ? x : norm(x, vectors.get(p + "post_attention_layernorm.weight"));
            double[][] gate = project(m, p + "mlp.gate_proj");
            double[][] up = project(m, p + "mlp.up_proj");
            for (int t = 0; t < time; t++) {
                for (int i = 0; i < gate[t].length; i++) {
                    gate[t][i] = gate[t][i] / (1 + Math.exp(-gate[t][i])) * up[t][i];
                }
            }
            double[][] down = project(gate, p + "mlp.down_proj");
            Float64Attention.addInPlace(
                    x, olmo2 ? norm(down, vectors.get(p + "post_feedforward_layernorm.weight")) : down);
        }
        double[][] head = matrices.containsKey("lm_head.weight")
                ? matrices.get("lm_head.weight")
                : matrices.get("model.embed_tokens.weight");
        return multiply(norm(x, vectors.get("model.norm.weight")), head, null);
    }

    private double[][] project(double[][] x, String module) {
        return multiply(x, matrices.get(module + ".weight"), vectors.get(module + ".bias"));
    }

    private static double[][] multiply(double[][] x, double[][] weight, double[] bias) {
        double[][] out = new double[x.length][weight.length];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < weight.length; o++) {
                double sum = bias == null ? 0 : bias[o];
                for (int i = 0; i < x[t].length; i++) {
                    sum += x[t][i] * weight[o][i];
                }
                out[t][o] = sum;
            }
        }
        return out;
    }

    private double[][] norm(double[][] x, double[] weight) {
        double[][] out = new double[x.length][x[0].length];
        for (int t = 0; t < x.length; t++) {
            double squares = 0;
            for (double value : x[t]) {
                squares += value * value;
            }
            double scale = 1 / Math.sqrt(squares / x[t].length + eps);
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = x[t][i] * scale * weight[i];
            }
        }
        return out;
    }

    /** Hugging Face RoPE: dimension j pairs with j + d/2. */
    private void rotate(double[][] x, int count, int headDim) {
        int half = headDim / 2;
        for (int t = 0; t < x.length; t++) {
            for (int h = 0; h < count; h++) {
                for (int j = 0; j < half; j++) {
                    double angle = t * Math.pow(theta, -2.0 * j / headDim);
                    int a = h * headDim + j;
                    int b = a + half;
                    double first = x[t][a];
                    double second = x[t][b];
                    x[t][a] = first * Math.cos(angle) - second * Math.sin(angle);
                    x[t][b] = second * Math.cos(angle) + first * Math.sin(angle);
                }
            }
        }
    }
}
