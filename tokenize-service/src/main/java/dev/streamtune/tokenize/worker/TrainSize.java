package dev.streamtune.tokenize.worker;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntToLongFunction;

/**
 * {@code data_config.train_size} over a stream: the recipe trains on its first {@code train_size} training examples,
 * and the later ones are counted as beyond it. The count is shared out over the partitions of {@code examples}
 * ({@code 200} over 3 partitions: the first 67, 67 and 66 training examples of partitions 0, 1 and 2, in offset order),
 * because only the order within a partition is fixed: which examples train is then the same whatever the
 * interleaving of partitions, the restarts, or the instances the partitions are spread over.
 *
 * <p>Restart-safe: each commit notes, per partition, how many examples were admitted below its committed position
 * ({@link BatchProgress#trained()}); a restart starts from those counts and reads the rest again, in the same order,
 * so it admits exactly the same examples. Admissions at or past the commit position are kept until a commit passes
 * them, so what is kept is bounded by what the worker buffers, not by the stream. Not thread-safe: it belongs to the
 * worker's thread.
 */
final class TrainSize {

    private static final TrainSize UNLIMITED = new TrainSize(-1, 1, Map.of());

    private final long limit;
    private final int partitions;
    /** Per partition, the examples admitted below the last noted position. */
    private final Map<Integer, Long> settled;
    /** Per partition, the offsets of examples admitted at or past the last noted position, in reading order. */
    private final Map<Integer, ArrayDeque<Long>> pending = new HashMap<>();

    /**
     * @param limit      the recipe's train_size
     * @param partitions how many partitions {@code examples} has
     * @param settled    per partition, the examples admitted below its committed position (its commit's note)
     */
    TrainSize(long limit, int partitions, Map<Integer, Long> settled) {
        if (partitions < 1) {
            throw new IllegalArgumentException("the examples topic has no partitions");
        }
        this.limit = limit;
        this.partitions = partitions;
        this.settled = new HashMap<>(settled);
    }

    /**
     * The train_size of a restart: each partition's count as its own note says, committed together with its
     * position (a note of another partition may be from a later commit that did not move this one's position).
     */
    static TrainSize fromNotes(long limit, int partitions, Map<Integer, BatchProgress> noteOfPartition) {
        Map<Integer, Long> settled = new HashMap<>();
        noteOfPartition.forEach(
                (partition, note) -> settled.put(partition, note.trained().getOrDefault(partition, 0L)));
        return new TrainSize(limit, partitions, settled);
    }

    /** Every training example is used. */
    static TrainSize unlimited() {
        return UNLIMITED;
    }

    boolean limited() {
        return limit >= 0;
    }

    /** The share of train_size that partition {@code partition} of {@code examples} gives. */
    long quota(int partition) {
        return limit / partitions + (Math.floorMod(partition, partitions) < limit % partitions ? 1 : 0);
    }

    /** Whether a training example read on {@code partition} is still within train_size. */
    boolean hasRoom(int partition) {
        if (!limited()) {
            return true;
        }
        ArrayDeque<Long> open = pending.get(partition);
        return settled.getOrDefault(partition, 0L) + (open == null ? 0 : open.size()) < quota(partition);
    }

    /** A training example read at {@code offset} of {@code partition} is used (after {@link #hasRoom}). */
    void admitted(int partition, long offset) {
        if (limited()) {
            pending.computeIfAbsent(partition, p -> new ArrayDeque<>()).add(offset);
        }
    }

    /**
     * The counts to note with a commit at these positions ({@code position}: the commit position of each partition of
     * {@code examples}): per partition, the examples admitted below it. Empty when train_size is not set.
     */
    Map<Integer, Long> settle(IntToLongFunction position) {
        if (!limited()) {
            return Map.of();
        }
        pending.forEach((partition, open) -> {
            long below = position.applyAsLong(partition);
            while (!open.isEmpty() && open.peekFirst() < below) {
                open.removeFirst();
                settled.merge(partition, 1L, Long::sum);
            }
        });
        return new TreeMap<>(settled);
    }

    /** How many admissions are kept past the noted positions: bounded by what the worker buffers. */
    int pendingAdmissions() {
        return pending.values().stream().mapToInt(ArrayDeque::size).sum();
    }

    @Override
    public String toString() {
        return limited() ? limit + " over " + partitions + " partitions" : "all";
    }
}
