package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

/** The largest absolute difference between two results of the same shape, for the tests' tolerances. */
final class Differences {

    private Differences() {}

    static double largest(double[] actual, double[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double largest = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
        }
        return largest;
    }

    /** Each difference is taken in float32, as the results were computed. */
    static double largest(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double largest = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
        }
        return largest;
    }
}
