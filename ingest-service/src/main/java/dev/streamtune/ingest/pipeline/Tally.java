package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Split;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts of outcomes per split, formats read and unused reasons. An ingestion keeps one for its receipt and one
 * per chunk for the registry; a chunk's tally is merged into the run's once the chunk is committed.
 */
final class Tally {

    static final String NO_SPLIT = "none";

    private final Map<Outcome, Map<String, Long>> counts = new EnumMap<>(Outcome.class);
    private final Map<String, Long> formats = new TreeMap<>();
    private final Map<String, Long> unusedReasons = new TreeMap<>();
    private final List<IngestReceipt.Rejection> rejections = new ArrayList<>();
    private final int keptRejections;

    Tally(int keptRejections) {
        this.keptRejections = keptRejections;
    }

    void count(Outcome outcome, Split split) {
        count(outcome, split == null ? NO_SPLIT : split.wireName(), 1);
    }

    private void count(Outcome outcome, String split, long n) {
        counts.computeIfAbsent(outcome, o -> new TreeMap<>()).merge(split, n, Long::sum);
    }

    void format(String format) {
        formats.merge(format, 1L, Long::sum);
    }

    void unused(String reason, Split split) {
        count(Outcome.UNUSED, split);
        unusedReasons.merge(reason, 1L, Long::sum);
    }

    void rejected(IngestReceipt.Rejection rejection) {
        count(Outcome.REJECTED, (Split) null);
        if (rejections.size() < keptRejections) {
            rejections.add(rejection);
        }
    }

    void addAll(Tally other) {
        other.counts.forEach((outcome, bySplit) -> bySplit.forEach((split, n) -> count(outcome, split, n)));
        other.formats.forEach((format, n) -> formats.merge(format, n, Long::sum));
        other.unusedReasons.forEach((reason, n) -> unusedReasons.merge(reason, n, Long::sum));
        for (IngestReceipt.Rejection rejection : other.rejections) {
            if (rejections.size() < keptRejections) {
                rejections.add(rejection);
            }
        }
    }

    long total(Outcome outcome) {
        return counts.getOrDefault(outcome, Map.of()).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    long records() {
        long sum = 0;
        for (Outcome outcome : Outcome.values()) {
            sum += total(outcome);
        }
        return sum;
    }

    boolean isEmpty() {
        return counts.isEmpty() && formats.isEmpty();
    }

    /** Counts as (split, outcome, n) triples, for the registry. */
    Map<Outcome, Map<String, Long>> counts() {
        return counts;
    }

    Map<String, Long> formats() {
        return formats;
    }

    /** Per split, then per outcome, for the receipt. */
    Map<String, Map<String, Long>> bySplit() {
        Map<String, Map<String, Long>> view = new TreeMap<>();
        counts.forEach((outcome, bySplit) -> bySplit.forEach((split, n) ->
                view.computeIfAbsent(split, s -> new LinkedHashMap<>()).put(outcome.wireName(), n)));
        return view;
    }

    Map<String, Long> unusedReasons() {
        return unusedReasons;
    }

    List<IngestReceipt.Rejection> rejections() {
        return rejections;
    }
}
