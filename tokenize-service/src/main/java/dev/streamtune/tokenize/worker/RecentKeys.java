package dev.streamtune.tokenize.worker;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The keys of the last {@code horizon} examples a worker read: what a repeat of an example is recognised against.
 * Repeats come from upstream redelivery (format-service publishing again what it published before a crash), which
 * lands within a few polls of the original, so a bounded horizon catches them while memory stays flat over a stream
 * of any length; a repeat older than the horizon is taken as a new example. Not thread-safe: it belongs to the
 * worker's thread.
 */
final class RecentKeys {

    private final int horizon;
    private final Map<String, Boolean> keys;

    RecentKeys(int horizon) {
        if (horizon < 1) {
            throw new IllegalArgumentException("the deduplication horizon must hold at least one key: " + horizon);
        }
        this.horizon = horizon;
        this.keys = new LinkedHashMap<>(Math.min(horizon, 1 << 16), 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > RecentKeys.this.horizon;
            }
        };
    }

    /** True when {@code key} is new within the horizon (it is remembered now); false for a repeat. */
    boolean add(String key) {
        return keys.putIfAbsent(key, Boolean.TRUE) == null;
    }

    /**
     * Where to read the keys before each committed position from, so that a restart remembers as many as the
     * horizon holds: {@code horizon} records back, or the partition's beginning.
     */
    static Map<Integer, Long> lookBack(Map<Integer, Long> committed, int horizon) {
        Map<Integer, Long> from = new HashMap<>();
        committed.forEach((partition, position) -> from.put(partition, Math.max(0, position - horizon)));
        return from;
    }

    int size() {
        return keys.size();
    }
}
