package dev.streamtune.streams;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A worker's accounting (records read, produced, rejected, duplicates, skipped..., by dataset), counted only once
 * what it counts is acknowledged by Kafka: counts made while handling a poll stay pending until its output is
 * published, and are discarded when the worker starts over, so a retried poll is not counted twice. Counts made
 * while handling a record that then fails are taken back with its outputs.
 *
 * <p>Counting is done by the worker's thread; {@link #totals} may be read from any thread.
 */
public final class StageCounts {

    /** What is counted: an outcome, per dataset (null when the dataset is not known). */
    public record Key(String outcome, String dataset) {}

    private final List<Map.Entry<Key, Long>> record = new ArrayList<>();
    private final Map<Key, Long> pending = new HashMap<>();
    private final Map<Key, AtomicLong> confirmed = new ConcurrentHashMap<>();
    private boolean inRecord;

    public void count(String outcome, String dataset, long n) {
        if (n == 0) {
            return;
        }
        Key key = new Key(outcome, dataset);
        if (inRecord) {
            record.add(Map.entry(key, n));
        } else {
            pending.merge(key, n, Long::sum);
        }
    }

    public void count(String outcome, String dataset) {
        count(outcome, dataset, 1);
    }

    void beginRecord() {
        inRecord = true;
        record.clear();
    }

    /** The record was handled: its counts join the poll's. */
    void endRecord() {
        inRecord = false;
        record.forEach(entry -> pending.merge(entry.getKey(), entry.getValue(), Long::sum));
        record.clear();
    }

    /** The record failed: its counts go. */
    void abandonRecord() {
        inRecord = false;
        record.clear();
    }

    /** The poll's output was acknowledged: its counts become final; returns them. */
    Map<Key, Long> confirm() {
        Map<Key, Long> deltas = Map.copyOf(pending);
        deltas.forEach((key, n) ->
                confirmed.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(n));
        pending.clear();
        return deltas;
    }

    /** The worker starts over from its committed offsets: what was not acknowledged will be counted again. */
    void discardPending() {
        pending.clear();
        record.clear();
        inRecord = false;
    }

    /** The final count of one outcome, all datasets together. */
    public long total(String outcome) {
        long total = 0;
        for (Map.Entry<Key, AtomicLong> entry : confirmed.entrySet()) {
            if (entry.getKey().outcome().equals(outcome)) {
                total += entry.getValue().get();
            }
        }
        return total;
    }

    /** Final counts by outcome, all datasets together. */
    public Map<String, Long> totals() {
        Map<String, Long> totals = new TreeMap<>();
        confirmed.forEach((key, n) -> totals.merge(key.outcome(), n.get(), Long::sum));
        return totals;
    }
}
