package dev.streamtune.lm.quant;

import java.util.Arrays;

/**
 * bitsandbytes' signed 8-bit dynamic tree map ({@code create_dynamic_map(signed=True)}; Dettmers, "8-Bit
 * Approximations for Parallelism in Deep Learning", 2016): 256 sorted values in [-1, 1] whose exponent shrinks from
 * 10^0 to 10^-6 as the fraction's bits grow, plus 0 and 1. Double quantisation stores each 4-bit block's scale as an
 * index into this map.
 */
public final class DynamicMap {

    private static final float[] VALUES = build();

    private DynamicMap() {}

    /** The 256 values, ascending. */
    public static float[] values() {
        return VALUES.clone();
    }

    static float[] shared() {
        return VALUES;
    }

    /**
     * Exponent e = 10^(i-6) for i = 0..6, each with 2^i fractions: the midpoints of linspace(0.1, 1, 2^i + 1), with
     * both signs; then 0 and 1.0. 2 (1 + 2 + ... + 64) + 2 = 256 values.
     */
    private static float[] build() {
        float[] values = new float[256];
        int next = 0;
        for (int i = 0; i < 7; i++) {
            int fractions = (1 << i) + 1;
            float[] boundaries = linspace(0.1f, 1f, fractions);
            float exponent = (float) Math.pow(10, i - 6);
            for (int j = 0; j + 1 < fractions; j++) {
                float mean = (boundaries[j] + boundaries[j + 1]) / 2f;
                values[next++] = exponent * mean;
                values[next++] = -exponent * mean;
            }
        }
        values[next++] = 0f;
        values[next++] = 1f;
        if (next != values.length) {
            throw new IllegalStateException("the dynamic map has " + next + " values, not 256");
        }
        Arrays.sort(values);
        return values;
    }

    private static float[] linspace(float start, float end, int steps) {
        float[] values = new float[steps];
        double step = ((double) end - start) / (steps - 1);
        for (int k = 0; k < steps; k++) {
            values[k] = k == steps - 1 ? end : (float) (start + step * k);
        }
        return values;
    }
}
