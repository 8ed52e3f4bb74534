package dev.streamtune.lm.reference;

/** Causal scaled-dot-product attention in plain float64 loops, for the reference decoders. */
public final class Float64Attention {

    private Float64Attention() {}

    /**
     * @param q, k, v     [time][...] rows; head h of q starts at {@code qOffset + h * headDim}, and reads key/value head
     *                    {@code h / (heads / kvHeads)} at {@code kOffset} / {@code vOffset}
     * @return [time][heads * headDim]
     */
    public static double[][] causal(
            double[][] q,
            int qOffset,
            double[][] k,
            int kOffset,
            double[][] v,
            int vOffset,
            int heads,
            int kvHeads,
            int headDim) {
        int time = q.length;
        double[][] context = new double[time][heads * headDim];
        for (int h = 0; h < heads; h++) {
            int kv = h / (heads / kvHeads);
            for (int t = 0; t < time; t++) {
                double[] scores = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += q[t][qOffset + h * headDim + d] * k[s][kOffset + kv * headDim + d];
                    }
                    scores[s] = dot / Math.sqrt(headDim);
                    max = Math.max(max, scores[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    scores[s] = Math.exp(scores[s] - max);
                    sum += scores[s];
                }
                for (int s = 0; s <= t; s++) {
                    for (int d = 0; d < headDim; d++) {
                        context[t][h * headDim + d] += scores[s] / sum * v[s][vOffset + kv * headDim + d];
                    }
                }
            }
        }
        return context;
    }

    /** x += delta, row by row (residual connections). */
    public static void addInPlace(double[][] x, double[][] delta) {
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < x[t].length; i++) {
                x[t][i] += delta[t][i];
            }
        }
    }
}
