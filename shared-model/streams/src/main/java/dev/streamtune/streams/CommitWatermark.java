package dev.streamtune.streams;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How far a consumer may commit on each partition: past everything it read, except where an input still has outputs
 * that Kafka has not acknowledged. A stage that buffers (a mixing window, an open packed row, a partial batch)
 * {@linkplain #hold holds} the offset of each buffered input and {@linkplain #release releases} it once the output
 * that carries it is acknowledged; the commit position of a partition is then its oldest held offset, or the offset
 * after the last one read when nothing is held. A crash re-reads from there: nothing buffered is lost, and what is
 * re-read was either not yet published or is recognised by its key.
 *
 * <p>Holds are counted, since one input may sit in several places at once (the windows of a split example, the
 * copies of a mixed one). Not thread-safe: it belongs to the worker's thread.
 */
public final class CommitWatermark {

    private final Map<TopicPartition, Long> nextToRead = new HashMap<>();
    private final Map<TopicPartition, TreeMap<Long, Integer>> held = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final Map<TopicPartition, Long> pinned = new HashMap<>();

    /** The consumer read {@code offset}: without holds, the commit position moves past it. */
    public void read(TopicPartition partition, long offset) {
        nextToRead.merge(partition, offset + 1, Math::max);
    }

    /** One more output of the input at {@code offset} is on its way. */
    public void hold(TopicPartition partition, long offset) {
        held.computeIfAbsent(partition, p -> new TreeMap<>()).merge(offset, 1, Integer::sum);
    }

    /**
     * Keeps the commit position of a partition at or before {@code offset} for good: what is read from here on is left
     * for whoever processes it later (a worker whose work has ended keeps only its group's position). One hold per
     * partition, however much is read after it.
     */
    public void pin(TopicPartition partition, long offset) {
        pinned.merge(partition, offset, Math::min);
    }

    /** One output of the input at {@code offset} was acknowledged (or will never be sent). */
    public void release(TopicPartition partition, long offset) {
        TreeMap<Long, Integer> offsets = held.get(partition);
        if (offsets == null) {
            return;
        }
        Integer count = offsets.get(offset);
        if (count == null) {
            return;
        }
        if (count <= 1) {
            offsets.remove(offset);
        } else {
            offsets.put(offset, count - 1);
        }
    }

    /** Every hold on the input at {@code offset} goes: it failed and became a dead letter instead. */
    public void releaseAll(TopicPartition partition, long offset) {
        TreeMap<Long, Integer> offsets = held.get(partition);
        if (offsets != null) {
            offsets.remove(offset);
        }
    }

    /** How many holds are outstanding on all partitions together (a pinned partition counts one). */
    public int holds() {
        return held.values().stream()
                        .flatMap(m -> m.values().stream())
                        .mapToInt(Integer::intValue)
                        .sum()
                + pinned.size();
    }

    /**
     * The commit position of a partition: its oldest held or pinned offset, else the offset after the last read; -1
     * if unread.
     */
    public long position(TopicPartition partition) {
        TreeMap<Long, Integer> offsets = held.get(partition);
        long position =
                offsets != null && !offsets.isEmpty() ? offsets.firstKey() : nextToRead.getOrDefault(partition, -1L);
        Long pin = pinned.get(partition);
        return pin != null && (position < 0 || pin < position) ? pin : position;
    }

    /**
     * The positions that moved since the last call, to commit now; each partition's position never moves back.
     * The caller commits them; if that fails, {@link #forget} makes the next call offer them again.
     */
    public Map<TopicPartition, OffsetAndMetadata> committable() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : nextToRead.keySet()) {
            long position = position(partition);
            Long last = committed.get(partition);
            if (position >= 0 && (last == null || position > last)) {
                offsets.put(partition, new OffsetAndMetadata(position));
                committed.put(partition, position);
            }
        }
        return offsets;
    }

    /** A commit failed or a partition went elsewhere: offer its position again next time. */
    public void forget(Iterable<TopicPartition> partitions) {
        partitions.forEach(committed::remove);
    }

    /** Everything about these partitions goes (they were revoked: another consumer reads them now). */
    public void drop(Iterable<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            nextToRead.remove(partition);
            held.remove(partition);
            committed.remove(partition);
            pinned.remove(partition);
        }
    }
}
