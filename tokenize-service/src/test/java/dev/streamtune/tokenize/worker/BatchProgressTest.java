package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchProgressTest {

    @Test
    void theTrainingExamplesUsedPerPartitionTravelWithTheNoteAndAnEarlierNoteHasNone() {
        BatchProgress progress = new BatchProgress(Map.of(0, 12L), 3).withTrained(Map.of(0, 67L, 2, 5L));

        assertThat(progress.note()).isEqualTo("v1;from=0:12;next=3;trained=0:67,2:5");
        assertThat(BatchProgress.parse(progress.note())).contains(progress);
        assertThat(BatchProgress.parse("v1;from=0:12;next=3").orElseThrow().trained())
                .isEmpty();
    }

    @Test
    void aNoteReadsBackAsTheProgressItWasWrittenFrom() {
        BatchProgress progress = new BatchProgress(Map.of(0, 1234L, 2, 0L), 42);

        assertThat(progress.note()).isEqualTo("v1;from=0:1234,2:0;next=42");
        assertThat(BatchProgress.parse(progress.note())).contains(progress);
        assertThat(BatchProgress.parse(new BatchProgress(Map.of(), 0).note())).contains(new BatchProgress(Map.of(), 0));
    }

    @Test
    void aCommitWithoutANoteOrWithAnotherToolsMetadataHasNoProgress() {
        assertThat(BatchProgress.parse("")).isEmpty();
        assertThat(BatchProgress.parse(null)).isEmpty();
        assertThat(BatchProgress.parse("written by another tool")).isEmpty();
        assertThat(BatchProgress.parse("v1;from=0:x;next=3")).isEmpty();
        assertThat(BatchProgress.parse("v1;from=0:3")).isEmpty();
        assertThat(BatchProgress.parse("v2;from=0:3;next=1")).isEmpty();
    }

    @Test
    void notesOfSeveralPartitionsReadFromTheEarliestPlaceAndNumberOnFromTheHighest() {
        BatchProgress older = new BatchProgress(Map.of(0, 10L, 1, 7L), 5);
        BatchProgress newer = new BatchProgress(Map.of(0, 25L, 1, 3L), 9);

        assertThat(BatchProgress.earliest(List.of(older, newer)))
                .isEqualTo(new BatchProgress(Map.of(0, 10L, 1, 3L), 9));
    }
}
