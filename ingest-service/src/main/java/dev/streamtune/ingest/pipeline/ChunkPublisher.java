package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.registry.ChunkLedger;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Publishes a deduplicated chunk and records it. It first claims its conversations in the ledger: one that a
 * concurrent ingestion published meanwhile is counted as a duplicate of it, under its split, and not sent. The
 * conversations won, each in its split, and the chunk's dead letters go to Kafka, and only once Kafka has
 * acknowledged every one is the chunk recorded with its counts, which makes the claims final. If Kafka does not
 * take the chunk the claims are given back, so a retry publishes those conversations again. A crash between the
 * acknowledgement and the record republishes the chunk on retry under the same keys, which consumers recognise; it
 * never loses one.
 */
final class ChunkPublisher {

    /** Sends to Kafka and returns once every record is acknowledged; throws when they cannot all be. */
    @FunctionalInterface
    interface Sender {
        void send(List<Conversation> conversations, List<DeadLetter> letters);
    }

    /** A conversation that survived deduplication, in the split it was given. */
    record Placed(Candidate candidate, Split split, MinHash.Signature signature) {}

    private final ChunkLedger ledger;
    private final Sender sender;
    private final String dataset;
    private final String source;
    private final String splitPolicy;

    ChunkPublisher(ChunkLedger ledger, Sender sender, String dataset, String source, String splitPolicy) {
        this.ledger = ledger;
        this.sender = sender;
        this.dataset = dataset;
        this.source = source;
        this.splitPolicy = splitPolicy;
    }

    /**
     * Publishes and records a chunk, counting its conversations as published or duplicate in {@code tally}; returns
     * the conversations lost to concurrent ingestions, whose splits were not used.
     */
    List<Placed> publish(List<Placed> conversations, List<DeadLetter> letters, Tally tally) throws SQLException {
        List<ChunkLedger.Seen> claimed = new ArrayList<>(conversations.size());
        for (Placed placed : conversations) {
            MinHash.Signature signature = placed.signature();
            claimed.add(new ChunkLedger.Seen(
                    placed.candidate().id(),
                    dataset,
                    placed.split(),
                    signature == null ? null : signature.values(),
                    signature == null ? null : signature.bandKeys()));
        }
        try (ChunkLedger.Claim claim = ledger.claim(claimed)) {
            List<Conversation> won = new ArrayList<>(conversations.size());
            List<Placed> lost = new ArrayList<>();
            for (Placed placed : conversations) {
                if (claim.won(placed.candidate().id())) {
                    won.add(placed.candidate().prototype().withSplit(placed.split()));
                    tally.count(Outcome.PUBLISHED, placed.split());
                } else {
                    lost.add(placed);
                    tally.count(
                            Outcome.DUPLICATE,
                            claim.publishedSplit(placed.candidate().id()));
                }
            }
            sender.send(won, letters);
            claim.record(dataset, source, splitPolicy, countsOf(tally));
            return lost;
        }
    }

    private static ChunkLedger.Counts countsOf(Tally tally) {
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        tally.counts().forEach((outcome, bySplit) -> counts.put(outcome.wireName(), bySplit));
        return new ChunkLedger.Counts(counts, tally.formats());
    }
}
