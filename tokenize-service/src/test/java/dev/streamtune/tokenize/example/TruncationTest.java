package dev.streamtune.tokenize.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** The three truncation policies, and the examples no policy keeps. */
class TruncationTest {

    private static final int I = PackedSequence.IGNORE_INDEX;

    @Test
    void shortExamplesPassWhateverThePolicy() {
        TokenizedExample example = example(new int[] {I, I, 7, 8});
        for (Truncation policy : Truncation.values()) {
            assertThat(policy.apply(example, 4)).isEqualTo(new Truncation.Kept(List.of(example)));
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
    void splitCutsWindowsAndKeepsThoseWithTrainedTokensReportingTheOthers() {
        Truncation.Outcome outcome = Truncation.SPLIT.apply(example(new int[] {I, 2, I, I, I, I, 7, 8}), 3);
        assertThat(((Truncation.Kept) outcome).examples())
                .extracting(TokenizedExample::key)
                .containsExactly("k#0", "k#2");
        assertThat(((Truncation.Kept) outcome).examples().get(1).ids()).containsExactly(7, 8);
        assertThat(((Truncation.Kept) outcome).examples().get(1).labels()).containsExactly(I, 8);
        assertThat(((Truncation.Kept) outcome).dropped())
                .extracting(Truncation.DroppedWindow::key, Truncation.DroppedWindow::reason)
                .containsExactly(Tuple.tuple("k#1", "tokens 3-5 of 8 hold no trained token (truncation: split)"));
    }

    @Test
    void aContinuationWindowDoesNotTrainItsFirstTokenWhichHasNoContextInsideIt() {
        // Windows [1 2 3] [4 5 6] [7]: the second's first label (4) would be predicted from nothing once the window
        // is cut out; the third's only trained token is its first, so nothing of it can be trained.
        Truncation.Outcome outcome = Truncation.SPLIT.apply(example(new int[] {I, 2, 3, 4, 5, 6, 7}), 3);

        List<TokenizedExample> windows = ((Truncation.Kept) outcome).examples();
        assertThat(windows).extracting(TokenizedExample::key).containsExactly("k#0", "k#1");
        assertThat(windows.get(1).labels()).containsExactly(I, 5, 6);
        assertThat(windows.get(1).trainableTokens()).isEqualTo(2);
        assertThat(((Truncation.Kept) outcome).dropped())
                .containsExactly(
                        new Truncation.DroppedWindow(
                                "k#2",
                                "tokens 6-6 of 7 train only their first, which has no context inside the window (truncation: split)"));
    }

    @Test
    void anExampleWhoseEveryWindowIsLeftWithNothingToTrainIsRejected() {
        // The only trained token starts the second window.
        assertThat(Truncation.SPLIT.apply(example(new int[] {I, I, I, 4, I}), 3))
                .isEqualTo(new Truncation.Rejected(
                        "none of the 2 windows of 3 tokens holds a trained token past its first (truncation: split)"));
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
