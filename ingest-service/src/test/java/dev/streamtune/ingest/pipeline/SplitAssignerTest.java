package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.split.SplitPolicy;
import java.util.ArrayList;
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
    void sizeCapsFillTrainThenValidThenTestCountingWhatTheDatasetHolds() {
        SplitAssigner assigner = SplitAssigner.fillingSizes(new SplitPolicy.Sizes(3, 2, 1, 7),
                Map.of(Split.TRAIN, 1L, Split.VALID, 1L));

        List<Split> given = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            given.add(assigner.assign("id-" + i));
        }

        assertThat(given).containsExactly(Split.TRAIN, Split.TRAIN, Split.VALID, Split.TEST, null);
        assertThat(assigner.full()).isTrue();
        assertThat(assigner.noRoom()).isEqualTo("beyond the split sizes train 3 / valid 2 / test 1");
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
