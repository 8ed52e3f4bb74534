package dev.streamtune.ingest.pipeline;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What one ingestion did with every record: {@code records = published + rejected + duplicates + unused}
 * ({@link #balanced()} checks it). An OASST tree counts once for each conversation it yields.
 *
 * @param splits        per split (train, valid, test; "none" for records that never got one) and outcome
 * @param formats       records read per input format
 * @param unusedReasons why records went unused, with counts
 * @param rejections    the first rejections with their reasons (all of them are dead-lettered)
 */
public record IngestReceipt(
        UUID ingestionId,
        String dataset,
        String source,
        String door,
        String splitPolicy,
        long records,
        long published,
        long rejected,
        long duplicates,
        long unused,
        Map<String, Map<String, Long>> splits,
        Map<String, Long> formats,
        Map<String, Long> unusedReasons,
        List<Rejection> rejections) {

    /** A rejected record: where it is, which field, and why. */
    public record Rejection(String source, String field, String reason) {}

    public boolean balanced() {
        return records == published + rejected + duplicates + unused;
    }
}
