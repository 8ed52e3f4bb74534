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
 * Publishes a deduplicated chunk and records it: its conversations, each with its split, and its dead letters go to
 * Kafka, and only once Kafka has acknowledged every one is the chunk recorded in the ledger with its counts. A crash
 * between the two republishes the chunk on retry under the same keys, which consumers recognise; it never loses one.
 */
final class ChunkPublisher {

    /** Sends to Kafka and returns once every record is acknowledged; throws when they cannot all be. */
    @FunctionalInterface
    interface Sender {
        void send(List<Conversation> conversations, List<DeadLetter> letters);
    }

    /** A conversation that survived deduplication, in the split it was given. */
    record Placed(Candidate candidate, Split split, MinHash.Signature signature) {
    }

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

    /** Publishes and records a chunk, counting its conversations as published in {@code tally}. */
    void publish(List<Placed> conversations, List<DeadLetter> letters, Tally tally) throws SQLException {
        List<Conversation> published = new ArrayList<>(conversations.size());
        List<ChunkLedger.Seen> seen = new ArrayList<>(conversations.size());
        for (Placed placed : conversations) {
            published.add(placed.candidate().prototype().withSplit(placed.split()));
            MinHash.Signature signature = placed.signature();
            seen.add(new ChunkLedger.Seen(placed.candidate().id(), dataset, placed.split(),
                    signature == null ? null : signature.values(), signature == null ? null : signature.bandKeys()));
            tally.count(Outcome.PUBLISHED, placed.split());
        }
        sender.send(published, letters);
        ledger.commit(dataset, source, splitPolicy, seen, countsOf(tally));
    }

    private static ChunkLedger.Counts countsOf(Tally tally) {
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        tally.counts().forEach((outcome, bySplit) -> counts.put(outcome.wireName(), bySplit));
        return new ChunkLedger.Counts(counts, tally.formats());
    }
}
