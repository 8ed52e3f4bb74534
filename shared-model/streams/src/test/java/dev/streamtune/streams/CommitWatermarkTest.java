package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CommitWatermarkTest {

    private static final TopicPartition P0 = new TopicPartition("examples", 0);
    private static final TopicPartition P1 = new TopicPartition("examples", 1);

    private final CommitWatermark watermark = new CommitWatermark();

    @Test
    void withoutHoldsTheCommitMovesPastTheLastRecordRead() {
        watermark.read(P0, 0);
        watermark.read(P0, 1);
        watermark.read(P1, 7);

        assertThat(watermark.committable())
                .isEqualTo(Map.of(P0, new OffsetAndMetadata(2), P1, new OffsetAndMetadata(8)));
    }

    @Test
    void aHeldInputKeepsTheCommitBelowItUntilItsLastHoldIsReleased() {
        for (long offset = 0; offset < 5; offset++) {
            watermark.read(P0, offset);
        }
        watermark.hold(P0, 2); // two windows of one split example
        watermark.hold(P0, 2);
        watermark.hold(P0, 3);

        assertThat(watermark.position(P0)).isEqualTo(2);
        watermark.release(P0, 2);
        assertThat(watermark.position(P0)).isEqualTo(2);
        watermark.release(P0, 2);
        assertThat(watermark.position(P0)).isEqualTo(3);
        watermark.release(P0, 3);
        assertThat(watermark.position(P0)).isEqualTo(5);
    }

    @Test
    void onlyPositionsThatMovedAreOfferedAndAFailedCommitIsOfferedAgain() {
        watermark.read(P0, 0);
        watermark.read(P1, 0);
        assertThat(watermark.committable()).hasSize(2);
        assertThat(watermark.committable()).isEmpty();

        watermark.read(P0, 1);
        Map<TopicPartition, OffsetAndMetadata> next = watermark.committable();
        assertThat(next).containsOnlyKeys(P0);

        watermark.forget(next.keySet());
        assertThat(watermark.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
    }

    @Test
    void aFailedInputReleasesAllItsHoldsAndExtraReleasesAreHarmless() {
        watermark.read(P0, 0);
        watermark.read(P0, 1);
        watermark.hold(P0, 0);
        watermark.hold(P0, 0);
        watermark.hold(P0, 1);

        watermark.releaseAll(P0, 0);
        watermark.release(P0, 0); // a buffered piece of the failed input, published later
        assertThat(watermark.position(P0)).isEqualTo(1);
        assertThat(watermark.holds()).isEqualTo(1);
    }

    @Test
    void aHoldBelowTheLastCommitNeverMovesTheCommitBack() {
        watermark.read(P0, 4);
        assertThat(watermark.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(5)));

        watermark.hold(P0, 3); // not possible in a worker, which holds only what it just read: still never backwards
        assertThat(watermark.committable()).isEmpty();
    }

    @Test
    void aPinKeepsThePositionWithOneHoldHoweverMuchIsReadAfterIt() {
        watermark.read(P0, 6);
        watermark.hold(P0, 6); // an input still buffered when the work ended
        for (long offset = 7; offset < 1_000; offset++) {
            watermark.read(P0, offset);
            watermark.pin(P0, offset);
        }
        assertThat(watermark.position(P0)).isEqualTo(6);
        assertThat(watermark.holds()).as("the buffered input and one pin").isEqualTo(2);

        watermark.release(P0, 6); // its output acknowledged: the first pin holds the position now
        assertThat(watermark.position(P0)).isEqualTo(7);
        assertThat(watermark.holds()).isEqualTo(1);
    }

    @Test
    void revokedPartitionsAreForgotten() {
        watermark.read(P0, 0);
        watermark.hold(P0, 0);
        watermark.read(P1, 0);

        watermark.drop(List.of(P0));

        assertThat(watermark.holds()).isZero();
        assertThat(watermark.committable()).containsOnlyKeys(P1);
        assertThat(watermark.position(P0)).isEqualTo(-1);
    }
}
