package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.TrainBatch;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchLedgerTest {

    private static TrainBatch batch(long sequenceNumber, Map<Integer, Long> sourceOffsets) {
        return new TrainBatch(
                TrainBatch.SCHEMA_VERSION,
                "r",
                sequenceNumber,
                8,
                List.of(),
                0,
                0,
                List.of("r:e" + sequenceNumber),
                sourceOffsets,
                Instant.EPOCH,
                List.of());
    }

    @Test
    void aRestartReadsFromTheFirstBatchStillHoldingAnExampleAtOrPastTheCommitPosition() {
        BatchLedger ledger = new BatchLedger(Map.of(0, 100L), 7);
        ledger.placed(0, 100, batch(7, Map.of(0, 40L)));
        ledger.placed(0, 101, batch(8, Map.of(0, 55L, 1, 3L)));
        ledger.placed(0, 102, batch(9, Map.of(0, 41L)));

        // Examples below 41 on partition 0 and below 2 on partition 1 are behind the commit.
        assertThat(ledger.progress(p -> p == 0 ? 41 : 2)).isEqualTo(new BatchProgress(Map.of(0, 101L), 10));
        assertThat(ledger.openBatches()).isEqualTo(2);

        // Once everything is behind the commit, a restart reads from past the last batch.
        assertThat(ledger.progress(p -> p == 0 ? 56 : 4)).isEqualTo(new BatchProgress(Map.of(0, 103L), 10));
        assertThat(ledger.openBatches()).isZero();
    }

    @Test
    void aPartitionWithoutACommitPositionKeepsItsBatchesOpen() {
        BatchLedger ledger = new BatchLedger(Map.of(0, 0L, 1, 5L), 0);
        ledger.placed(0, 0, batch(0, Map.of(3, 0L)));

        assertThat(ledger.progress(p -> -1)).isEqualTo(new BatchProgress(Map.of(0, 0L, 1, 5L), 1));
    }

    @Test
    void whatItKeepsStaysBoundedWhileTheCommitFollowsTheStream() {
        BatchLedger ledger = new BatchLedger(Map.of(0, 0L), 0);
        for (long n = 0; n < 100_000; n++) {
            ledger.placed(0, n, batch(n, Map.of(0, n)));
            long position = n - 10; // the commit lags ten examples behind the newest batch
            ledger.progress(p -> position);
        }
        assertThat(ledger.openBatches()).isEqualTo(11);
    }
}
