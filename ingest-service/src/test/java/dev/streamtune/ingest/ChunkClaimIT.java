package dev.streamtune.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.registry.ChunkLedger;
import dev.streamtune.ingest.registry.IngestLedger;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ledger's claims on the real PostgreSQL: a conversation claimed by a chunk that then fails is left for the
 * next claim, and a claim on an id another chunk holds waits for that chunk to record it or give it back.
 */
@QuarkusTest
class ChunkClaimIT {

    private static final ChunkLedger.Counts NO_COUNTS = new ChunkLedger.Counts(Map.of(), Map.of());

    @Inject
    IngestLedger ledger;

    @Inject
    AgroalDataSource dataSource;

    private final ExecutorService other = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopTheOtherIngestion() {
        other.shutdownNow();
    }

    @Test
    void aConversationWhoseChunkWasGivenBackIsClaimedByTheNextChunk() throws Exception {
        String id = "claim-" + UUID.randomUUID();

        try (ChunkLedger.Claim failed = ledger.claim(List.of(seen(id, Split.VALID)))) {
            assertThat(failed.won(id)).isTrue();
        } // Kafka did not acknowledge: closed without a record

        assertThat(ledger.published(List.of(id))).isEmpty();
        try (ChunkLedger.Claim retry = ledger.claim(List.of(seen(id, Split.TRAIN)))) {
            assertThat(retry.won(id)).isTrue();
            retry.record("claims-" + id, "retry", "90/10", NO_COUNTS);
        }
        assertThat(ledger.published(List.of(id))).containsExactly(Map.entry(id, Split.TRAIN));
    }

    @Test
    void aClaimOnAnIdAnotherChunkHoldsWaitsAndLosesItWhenThatChunkIsRecorded() throws Exception {
        String id = "claim-" + UUID.randomUUID();
        String alsoNew = "claim-" + UUID.randomUUID();

        try (ChunkLedger.Claim first = ledger.claim(List.of(seen(id, Split.VALID)))) {
            Future<Outcome> second =
                    other.submit(() -> claimAndRecord(List.of(seen(alsoNew, Split.TRAIN), seen(id, Split.TRAIN))));
            awaitAClaimWaitingOnAnother();
            assertThat(second).isNotDone();

            first.record("claims-" + id, "first", "90/10", NO_COUNTS);

            Outcome outcome = second.get(30, TimeUnit.SECONDS);
            assertThat(outcome.won()).containsExactly(alsoNew);
            assertThat(outcome.publishedSplit()).isEqualTo(Split.VALID);
        }
        assertThat(ledger.published(List.of(id, alsoNew)))
                .containsOnly(Map.entry(id, Split.VALID), Map.entry(alsoNew, Split.TRAIN));
    }

    @Test
    void aClaimOnAnIdAnotherChunkHoldsWaitsAndWinsItWhenThatChunkGivesItBack() throws Exception {
        String id = "claim-" + UUID.randomUUID();

        Future<Outcome> second;
        try (ChunkLedger.Claim first = ledger.claim(List.of(seen(id, Split.VALID)))) {
            second = other.submit(() -> claimAndRecord(List.of(seen(id, Split.TRAIN))));
            awaitAClaimWaitingOnAnother();
            assertThat(second).isNotDone();
        } // the first chunk failed to publish

        Outcome outcome = second.get(30, TimeUnit.SECONDS);
        assertThat(outcome.won()).containsExactly(id);
        assertThat(ledger.published(List.of(id))).containsExactly(Map.entry(id, Split.TRAIN));
    }

    private record Outcome(List<String> won, Split publishedSplit) {}

    private Outcome claimAndRecord(List<ChunkLedger.Seen> conversations) throws SQLException {
        try (ChunkLedger.Claim claim = ledger.claim(conversations)) {
            List<String> won = conversations.stream()
                    .map(ChunkLedger.Seen::id)
                    .filter(claim::won)
                    .toList();
            Split lostTo = conversations.stream()
                    .map(ChunkLedger.Seen::id)
                    .filter(i -> !claim.won(i))
                    .map(claim::publishedSplit)
                    .findFirst()
                    .orElse(null);
            claim.record("claims-second", "second", "90/10", NO_COUNTS);
            return new Outcome(won, lostTo);
        }
    }

    /** PostgreSQL shows the other chunk's insert waiting on a lock: it is blocked on the open claim. */
    private void awaitAClaimWaitingOnAnother() {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    try (Connection connection = dataSource.getConnection();
                            PreparedStatement waiting = connection.prepareStatement("""
                         select count(*) from pg_stat_activity
                         where wait_event_type = 'Lock' and query like 'insert into seen_conversation%'""");
                            ResultSet rows = waiting.executeQuery()) {
                        rows.next();
                        return rows.getLong(1) > 0;
                    }
                });
    }

    private static ChunkLedger.Seen seen(String id, Split split) {
        return new ChunkLedger.Seen(id, "claims", split, null, null);
    }
}
