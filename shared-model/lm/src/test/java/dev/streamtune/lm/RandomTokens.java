package dev.streamtune.lm;

import java.util.Random;

/** Token ids for tests and benchmarks whose outcome does not depend on the text. */
public final class RandomTokens {

    private RandomTokens() {}

    /** {@code rows} x {@code time} ids drawn uniformly from a vocabulary of {@code vocab}, row by row. */
    public static int[][] uniform(Random random, int vocab, int rows, int time) {
        int[][] tokens = new int[rows][time];
        for (int[] row : tokens) {
            for (int t = 0; t < time; t++) {
                row[t] = random.nextInt(vocab);
            }
        }
        return tokens;
    }
}
