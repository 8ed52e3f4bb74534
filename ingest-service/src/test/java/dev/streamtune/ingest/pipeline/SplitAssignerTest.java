package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.split.SplitPolicy;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitAssignerTest {

    @Test
    void underRatiosTheSplitIsTheIdsWhateverCameBefore() {
        SplitPolicy.Ratios ratios = new SplitPolicy.Ratios(0.5, 0.3, 0.2, 7);
        SplitAssigner assigner = SplitAssigner.byRatios(ratios);

        for (int i = 0; i < 200; i++) {
            assertThat(assigner.assign("id-" + i)).isEqualTo(ratios.assign("id-" + i));
        }
        assertThat(assigner.full()).isFalse();
    }

    @Test
    void sizeCapsFillTheSplitFurthestBehindItsShareCountingWhatTheDatasetHolds() {
        SplitAssigner assigner =
                SplitAssigner.fillingSizes(new SplitPolicy.Sizes(3, 2, 1, 7), Map.of(Split.TRAIN, 1L, Split.VALID, 1L));

        List<Split> given = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            given.add(assigner.assign("id-" + i));
        }

        // the 3rd: shares train 1.5, valid 1, test 0.5 against 1/1/0 held, train and test half behind, train first;
        // the 4th: test (share 0.67, holds 0); the 5th: valid (share 1.67, holds 1); the 6th: train; then no room
        assertThat(given).containsExactly(Split.TRAIN, Split.TEST, Split.VALID, Split.TRAIN, null);
        assertThat(assigner.full()).isTrue();
        assertThat(assigner.noRoom()).isEqualTo("beyond the split sizes train 3 / valid 2 / test 1");
    }

    @Test
    void aSmallFirstUploadGetsValidationAndTestDataToo() {
        SplitAssigner assigner = SplitAssigner.fillingSizes(new SplitPolicy.Sizes(2000, 200, 200, 7), Map.of());

        Map<Split, Long> placed = new EnumMap<>(Split.class);
        for (int i = 0; i < 120; i++) {
            placed.merge(assigner.assign("id-" + i), 1L, Long::sum);
        }

        assertThat(placed)
                .containsEntry(Split.TRAIN, 100L)
                .containsEntry(Split.VALID, 10L)
                .containsEntry(Split.TEST, 10L);
    }

    @Test
    void afterAnyNumberOfConversationsEverySplitHoldsItsShareWithinOne() {
        int[] caps = {37, 5, 11};
        SplitAssigner assigner =
                SplitAssigner.fillingSizes(new SplitPolicy.Sizes(caps[0], caps[1], caps[2], 7), Map.of());
        long[] used = new long[3];
        int total = caps[0] + caps[1] + caps[2];

        for (int n = 1; n <= total; n++) {
            used[assigner.assign("id-" + n).ordinal()]++;
            for (int s = 0; s < 3; s++) {
                double share = (double) n * caps[s] / total;
                assertThat(Math.abs(used[s] - share))
                        .as("split %d after %d conversations", s, n)
                        .isLessThan(1.0);
            }
        }
        assertThat(used).containsExactly(caps[0], caps[1], caps[2]);
        assertThat(assigner.full()).isTrue();
    }

    @Test
    void aDatasetAlreadyBeyondItsCapsHasNoRoom() {
        SplitAssigner assigner = SplitAssigner.fillingSizes(new SplitPolicy.Sizes(1, 0, 0, 7), Map.of(Split.TRAIN, 5L));

        assertThat(assigner.full()).isTrue();
        assertThat(assigner.assign("any")).isNull();
    }

    @Test
    void aPlaceGivenBackGoesToTheNextConversation() {
        SplitAssigner assigner = SplitAssigner.fillingSizes(new SplitPolicy.Sizes(1, 1, 0, 7), Map.of());
        Split lostToAnotherIngestion = assigner.assign("published elsewhere first");

        assigner.giveBack(lostToAnotherIngestion);

        assertThat(assigner.assign("next")).isEqualTo(lostToAnotherIngestion).isEqualTo(Split.TRAIN);
        assertThat(assigner.assign("after")).isEqualTo(Split.VALID);
        assertThat(assigner.full()).isTrue();
    }
}
