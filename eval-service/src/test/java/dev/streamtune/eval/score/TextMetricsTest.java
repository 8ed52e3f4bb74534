package dev.streamtune.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ROUGE-L, exact match and token reduction on cases small enough to check by hand. */
class TextMetricsTest {

    @Test
    void rougeLIsTheFMeasureOfTheLongestCommonSubsequence() {
        // candidate: the cat sat on the mat (6 tokens); reference: the cat was on the mat (6 tokens)
        // LCS: the cat on the mat = 5 -> precision 5/6, recall 5/6, F = 5/6
        assertThat(TextMetrics.rougeL("The cat sat on the mat.", "the cat was on the mat"))
                .isCloseTo(5 / 6.0, within(1e-12));
        // candidate 2 tokens, reference 4, LCS 2: P = 1, R = 1/2, F = 2/3
        assertThat(TextMetrics.rougeL("police killed", "police killed the gunman"))
                .isCloseTo(2 / 3.0, within(1e-12));
        // order matters: a subsequence, not a bag of words (LCS of "a b c" and "c b a" is 1)
        assertThat(TextMetrics.rougeL("a b c", "c b a")).isCloseTo(1 / 3.0, within(1e-12));
        assertThat(TextMetrics.rougeL("identical text", "Identical, text!")).isEqualTo(1.0);
        assertThat(TextMetrics.rougeL("", "anything")).isZero();
        assertThat(TextMetrics.rougeL("nothing shared", "at all")).isZero();
    }

    @Test
    void tokensFollowRougeScoresDefaultTokenizer() {
        assertThat(TextMetrics.tokens("Hello, World! It's 2024..."))
                .containsExactly("hello", "world", "it", "s", "2024");
        assertThat(TextMetrics.longestCommonSubsequence(List.of("a", "b", "c", "d"), List.of("b", "d")))
                .isEqualTo(2);
    }

    @Test
    void exactMatchIgnoresSurroundingWhitespaceOnly() {
        assertThat(TextMetrics.exactMatch("  You too!\n", "You too!")).isTrue();
        assertThat(TextMetrics.exactMatch("you too!", "You too!")).isFalse();
        assertThat(TextMetrics.exactMatch("You too", null)).isFalse();
    }

    @Test
    void tokenReductionIsTheShareOfReferenceTokensSaved() {
        assertThat(TextMetrics.tokenReduction(10, 7)).isCloseTo(0.3, within(1e-12));
        assertThat(TextMetrics.tokenReduction(10, 15)).isCloseTo(-0.5, within(1e-12));
        assertThat(TextMetrics.tokenReduction(0, 3)).isNaN();
    }
}
