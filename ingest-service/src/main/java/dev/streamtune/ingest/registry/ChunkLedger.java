package dev.streamtune.ingest.registry;

import dev.streamtune.events.Split;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * Where a chunk claims the conversations it is about to publish, and is recorded once Kafka has acknowledged it.
 *
 * <p>Exactly one ingestion may publish a conversation, whichever its dataset. A claim inserts each conversation's id
 * into the published set in a transaction that stays open while the chunk is sent: an ingestion claiming the same
 * id meanwhile waits on it, then loses it if the claim was recorded, or wins it if the claim was given up. So a
 * chunk that Kafka did not take gives its ids back, and a retry (or the ingestion that was waiting) publishes them:
 * nothing is lost to a failed claimant.
 */
public interface ChunkLedger {

    /** A conversation a chunk means to publish, with its MinHash signature and band keys when it was signed. */
    record Seen(String id, String dataset, Split split, int[] signature, long[] bands) {}

    /** The registry deltas of one chunk: records per outcome and split, and per input format. */
    record Counts(Map<String, Map<String, Long>> byOutcomeAndSplit, Map<String, Long> formats) {}

    /** Claims these conversations, waiting for any other open claim on the same ids to end. */
    Claim claim(List<Seen> conversations) throws SQLException;

    /** A chunk's hold on its conversations, until it is recorded or given back. */
    interface Claim extends AutoCloseable {

        /** Whether this chunk publishes the conversation; if not, another ingestion already did. */
        boolean won(String id);

        /** The split a conversation this chunk did not win was published in. */
        Split publishedSplit(String id);

        /** Records the chunk: its claims become published, with the registry counts, in one transaction. */
        void record(String dataset, String source, String splitPolicy, Counts counts) throws SQLException;

        /** Gives the claims back unless the chunk was recorded. */
        @Override
        void close() throws SQLException;
    }
}
