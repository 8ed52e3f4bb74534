package dev.streamtune.tokenize.worker;

import dev.streamtune.events.TrainBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToLongFunction;

/**
 * The recipe's published batches that a restart could still meet again: those holding an example at or past the
 * commit position of its {@code examples} partition (after a crash, such an example is read again and must be
 * recognised as batched). A batch whose every example lies below the commit position is settled and forgotten, so
 * what is kept is bounded by what the worker buffers (a mixing window, the packer, a partial batch), not by the
 * stream. From it comes the {@link BatchProgress} noted with each commit: where a restart reads the recipe's batches
 * from. Not thread-safe: it belongs to the worker's thread.
 */
final class BatchLedger {

    /** A batch where it lies on {@code batches}, with the highest offset of its examples per {@code examples} partition. */
    private record Placed(int partition, long offset, Map<Integer, Long> sourceOffsets) {

        /** Whether every example of the batch lies below the commit position of its partition. */
        boolean settled(IntToLongFunction position) {
            return sourceOffsets.entrySet().stream()
                    .allMatch(source -> source.getValue() < position.applyAsLong(source.getKey()));
        }
    }

    private final List<Placed> open = new ArrayList<>();
    private final Map<Integer, Long> nextOffset;
    private long nextSequenceNumber;

    /**
     * @param batchesEnd          per partition of {@code batches}, the offset past the last batch known so far
     * @param nextSequenceNumber  the number following the last batch known so far
     */
    BatchLedger(Map<Integer, Long> batchesEnd, long nextSequenceNumber) {
        this.nextOffset = new HashMap<>(batchesEnd);
        this.nextSequenceNumber = nextSequenceNumber;
    }

    /** A batch of the recipe lies at {@code offset} of {@code partition} of {@code batches} (acknowledged, or read). */
    void placed(int partition, long offset, TrainBatch batch) {
        open.add(new Placed(partition, offset, batch.sourceOffsets()));
        nextOffset.merge(partition, offset + 1, Math::max);
        nextSequenceNumber = Math.max(nextSequenceNumber, batch.sequenceNumber() + 1);
    }

    /**
     * The progress to note with a commit at these positions ({@code position}: the commit position of each
     * {@code examples} partition, -1 where there is none): batches settled at them are forgotten, and a restart from
     * them reads the batches from the earliest one still open, or from past the last one known.
     */
    BatchProgress progress(IntToLongFunction position) {
        open.removeIf(placed -> placed.settled(position));
        Map<Integer, Long> from = new HashMap<>(nextOffset);
        for (Placed placed : open) {
            from.merge(placed.partition(), placed.offset(), Math::min);
        }
        return new BatchProgress(from, nextSequenceNumber);
    }

    long nextSequenceNumber() {
        return nextSequenceNumber;
    }

    /** How many batches are still open: bounded by what the worker buffers. */
    int openBatches() {
        return open.size();
    }
}
