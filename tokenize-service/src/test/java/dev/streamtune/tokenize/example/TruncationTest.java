package dev.streamtune.tokenize.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;
import org.junit.jupiter.api.Test;

/** The three truncation policies, and the examples no policy keeps. */
class TruncationTest {

    private static final int I = PackedSequence.IGNORE_INDEX;

    @Test
    void shortExamplesPassWhateverThePolicy() {
        TokenizedExample example = example(new int[] {I, I, 7, 8});
        for (Truncation policy : Truncation.values()) {
            assertThat(policy.apply(example, 4)).isEqualTo(new Truncation.Kept(java.util.List.of(example)));
        }
    }

    @Test
    void dropRejectsWithTheLength() {
        assertThat(Truncation.DROP.apply(example(new int[] {I, I, 7, 8, 9}), 4))
                .isEqualTo(new Truncation.Rejected("5 tokens exceed max_seq_length 4 (truncation: drop)"));
    }

    @Test
    void truncateKeepsTheStartUnlessNothingTrainedRemains() {
        Truncation.Outcome kept = Truncation.TRUNCATE.apply(example(new int[] {I, 5, 6, 7, 8, 9}), 3);
        assertThat(kept).isInstanceOf(Truncation.Kept.class);
        TokenizedExample start = ((Truncation.Kept) kept).examples().get(0);
        assertThat(start.ids()).containsExactly(1, 2, 3);
        assertThat(start.trainableTokens()).isEqualTo(2);

        assertThat(Truncation.TRUNCATE.apply(example(new int[] {I, I, I, I, 8, 9}), 3))
                .isInstanceOf(Truncation.Rejected.class);
    }

    @Test
    void splitCutsWindowsAndKeepsThoseWithTrainedTokens() {
        Truncation.Outcome outcome = Truncation.SPLIT.apply(example(new int[] {I, 2, I, I, I, I, 7}), 3);
        assertThat(((Truncation.Kept) outcome).examples()).extracting(TokenizedExample::key).containsExactly("k#0", "k#2");
        assertThat(((Truncation.Kept) outcome).examples().get(1).ids()).containsExactly(7);
    }

    @Test
    void nothingTrainedIsAlwaysRejected() {
        assertThat(Truncation.SPLIT.apply(example(new int[] {I, I}), 8)).isInstanceOf(Truncation.Rejected.class);
        assertThatThrownBy(() -> Truncation.parse("middle")).hasMessageContaining("drop, truncate or split");
    }

    private static TokenizedExample example(int[] labels) {
        int[] ids = new int[labels.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i + 1;
        }
        int trainable = 0;
        for (int label : labels) {
            trainable += label == I ? 0 : 1;
        }
        return new TokenizedExample("k", "c", "d", Split.TRAIN, ids, labels, trainable, 1, null);
    }
}
