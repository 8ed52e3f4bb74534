package dev.streamtune.ingest.registry;

import dev.streamtune.events.Split;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/** Where a chunk is recorded once Kafka has acknowledged it: the conversations it published and its counts. */
public interface ChunkLedger {

    /** A conversation published in a chunk, with its MinHash signature and band keys when it was signed. */
    record Seen(String id, String dataset, Split split, int[] signature, long[] bands) {
    }

    /** The registry deltas of one chunk: records per outcome and split, and per input format. */
    record Counts(Map<String, Map<String, Long>> byOutcomeAndSplit, Map<String, Long> formats) {
    }

    /** Records a chunk: the conversations now published and the registry counts, in one transaction. */
    void commit(String dataset, String source, String splitPolicy, List<Seen> seen, Counts counts) throws SQLException;
}
