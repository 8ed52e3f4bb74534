package dev.streamtune.lm.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The sampling rules, with Hugging Face's meanings, on hand-made logits. */
class LogitsWarperTest {

    private static final float[] LOGITS = {2.0f, 1.0f, 0.5f, -1.0f, 0.0f};

    @Test
    void greedyTakesTheLargestLogit() {
        assertThat(choose(GenerationConfig.greedy(1, Set.of()), LOGITS, new int[0], 1))
                .isEqualTo(0);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        GenerationConfig config = new GenerationConfig(1, 0, 0, 1, 2.5, Set.of(), 0);
        float[] logits = LOGITS.clone();
        new LogitsWarper(config).choose(logits, new int[] {0, 3, 0}, 3, new SplittableRandom(1));
        assertThat(logits).containsExactly(0.8f, 1.0f, 0.5f, -2.5f, 0.0f);
        // Greedy now prefers token 1, which the sequence has not used.
        assertThat(choose(config, LOGITS, new int[] {0}, 1)).isEqualTo(1);
    }

    @Test
    void samplingFollowsTheSoftmaxOfLogitsOverTemperature() {
        GenerationConfig config = new GenerationConfig(1, 0.7, 0, 1, 1, Set.of(), 0);
        double[] expected = softmax(LOGITS, 0.7);
        int[] counts = new int[LOGITS.length];
        SplittableRandom random = new SplittableRandom(42);
        int draws = 200_000;
        for (int i = 0; i < draws; i++) {
            counts[new LogitsWarper(config).choose(LOGITS.clone(), new int[0], 0, random)]++;
        }
        for (int token = 0; token < LOGITS.length; token++) {
            // Binomial standard deviation is at most ~0.0011 here: 0.006 is more than five of them.
            assertThat((double) counts[token] / draws).as("token %d", token).isCloseTo(expected[token], within(0.006));
        }
    }

    @Test
    void topKKeepsOnlyTheKMostLikelyTokens() {
        GenerationConfig config = new GenerationConfig(1, 1.0, 2, 1, 1, Set.of(), 0);
        Set<Integer> seen = sampleMany(config);
        assertThat(seen).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        double[] p = softmax(LOGITS, 1.0); // 0.557, 0.205, 0.124, 0.028, 0.075 (sorted: 0, 1, 2, 4, 3)
        // p = 0.7: token 0 alone (0.557) is short of it, 0 + 1 (0.762) reaches it.
        assertThat(sampleMany(new GenerationConfig(1, 1.0, 0, 0.7, 1, Set.of(), 0)))
                .containsExactlyInAnyOrder(0, 1);
        // p just above 0 + 1 + 2 needs the fourth most likely token, 4.
        double threshold = p[0] + p[1] + p[2] + 1e-4;
        assertThat(sampleMany(new GenerationConfig(1, 1.0, 0, threshold, 1, Set.of(), 0)))
                .containsExactlyInAnyOrder(0, 1, 2, 4);
        // A tiny p still keeps one token.
        assertThat(sampleMany(new GenerationConfig(1, 1.0, 0, 1e-9, 1, Set.of(), 0)))
                .containsExactly(0);
    }

    @Test
    void theSameSeedDrawsTheSameTokens() {
        GenerationConfig config = new GenerationConfig(1, 1.3, 0, 0.95, 1, Set.of(), 0);
        int[] first = new int[50];
        int[] second = new int[50];
        SplittableRandom a = new SplittableRandom(7);
        SplittableRandom b = new SplittableRandom(7);
        for (int i = 0; i < 50; i++) {
            first[i] = new LogitsWarper(config).choose(LOGITS.clone(), new int[0], 0, a);
            second[i] = new LogitsWarper(config).choose(LOGITS.clone(), new int[0], 0, b);
        }
        assertThat(first).containsExactly(second);
        assertThat(Arrays.stream(first).distinct().count()).isGreaterThan(1);
    }

    @Test
    void refusesSettingsWithoutMeaning() {
        assertThatThrownBy(() -> new GenerationConfig(1, -0.1, 0, 1, 1, Set.of(), 0))
                .hasMessageContaining("temperature");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, 0, 0, 1, Set.of(), 0))
                .hasMessageContaining("top_p");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, -1, 1, 1, Set.of(), 0))
                .hasMessageContaining("top_k");
        assertThatThrownBy(() -> new GenerationConfig(1, 1, 0, 1, 0, Set.of(), 0))
                .hasMessageContaining("repetition_penalty");
    }

    private static Set<Integer> sampleMany(GenerationConfig config) {
        Set<Integer> seen = new TreeSet<>();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 5_000; i++) {
            seen.add(new LogitsWarper(config).choose(LOGITS.clone(), new int[0], 0, random));
        }
        return seen;
    }

    private static int choose(GenerationConfig config, float[] logits, int[] history, int seed) {
        return new LogitsWarper(config).choose(logits.clone(), history, history.length, new SplittableRandom(seed));
    }

    private static double[] softmax(float[] logits, double temperature) {
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
