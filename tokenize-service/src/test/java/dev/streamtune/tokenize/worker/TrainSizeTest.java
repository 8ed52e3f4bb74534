package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A recipe's train_size, shared out over the partitions of examples and carried across restarts by commit notes. */
class TrainSizeTest {

    @Test
    void trainSizeIsSharedOutOverThePartitionsAndAddsUpToIt() {
        TrainSize trainSize = new TrainSize(200, 3, Map.of());

        assertThat(IntStream.range(0, 3).mapToLong(trainSize::quota)).containsExactly(67L, 67L, 66L);
        assertThat(new TrainSize(2, 3, Map.of()).quota(2)).isZero();
    }

    @Test
    void aPartitionTakesItsShareAndNoMore() {
        TrainSize trainSize = new TrainSize(4, 2, Map.of());
        for (long offset = 0; offset < 2; offset++) {
            assertThat(trainSize.hasRoom(0)).isTrue();
            trainSize.admitted(0, offset);
        }

        assertThat(trainSize.hasRoom(0)).isFalse();
        assertThat(trainSize.hasRoom(1)).isTrue();
    }

    @Test
    void aCommitNotesWhatWasUsedBelowItsPositionsAndForgetsIt() {
        TrainSize trainSize = new TrainSize(10, 1, Map.of(0, 3L));
        trainSize.admitted(0, 40);
        trainSize.admitted(0, 41);
        trainSize.admitted(0, 45);

        assertThat(trainSize.settle(p -> 42)).isEqualTo(Map.of(0, 5L));
        assertThat(trainSize.pendingAdmissions()).isOne();
        assertThat(trainSize.settle(p -> 46)).isEqualTo(Map.of(0, 6L));
        assertThat(trainSize.pendingAdmissions()).isZero();
    }

    /**
     * A later commit that did not move partition 1 notes partition 1's count at its then position; partition 1's
     * own note, committed with its position, is what a restart reads on from.
     */
    @Test
    void aRestartReadsEachPartitionsCountFromThatPartitionsOwnNote() {
        BatchProgress ofPartition0 = new BatchProgress(Map.of(), 0).withTrained(Map.of(0, 9L, 1, 7L));
        BatchProgress ofPartition1 = new BatchProgress(Map.of(), 0).withTrained(Map.of(0, 2L, 1, 4L));

        TrainSize restarted = TrainSize.fromNotes(22, 2, Map.of(0, ofPartition0, 1, ofPartition1));

        assertThat(restarted.settle(p -> 0)).isEqualTo(Map.of(0, 9L, 1, 4L));
        assertThat(restarted.hasRoom(0)).isTrue(); // 9 of 11
        assertThat(TrainSize.fromNotes(18, 2, Map.of(0, ofPartition0)).hasRoom(0))
                .isFalse(); // 9 of 9
    }

    @Test
    void withoutATrainSizeEveryExampleIsUsedAndNothingIsNoted() {
        TrainSize all = TrainSize.unlimited();
        all.admitted(0, 1);

        assertThat(all.hasRoom(0)).isTrue();
        assertThat(all.settle(p -> 5)).isEmpty();
        assertThat(all.pendingAdmissions()).isZero();
    }
}
