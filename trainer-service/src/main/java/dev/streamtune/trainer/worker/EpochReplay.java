package dev.streamtune.trainer.worker;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a run stands in its data: the offset it reads next on each partition of {@code batches}, the batches it
 * has trained, and, for a run with epochs over a stream (num_train_epochs without max_steps), its passes.
 *
 * <p>The first pass trains batches as they arrive (or, when the schedule needs the run's length, only counts them);
 * once the stream has gone quiet, what arrived is the run's data ({@link #closeFirstPass}): its batch count makes the
 * run's budget (epochs x batches), and every later pass replays those batches from the topic, from the run's first
 * offset to where the first pass ended. A pass ends when its last batch is read; the next begins at once, even when
 * that last batch ended an optimiser step and a checkpoint was taken there: a run resumed from such a checkpoint
 * reads the next pass ({@link #restore}), not the end of the data.
 *
 * <p>Progress is also kept as it stood after the last optimiser step ({@link #atStep}): a checkpoint records that, so
 * the micro-batches of a step a stopped run did not finish are read again by whoever resumes it.
 */
final class EpochReplay {

    /** What to do with a batch of the run read from the topic. */
    enum Verdict {
        /** Train it. */
        TRAIN,
        /** Count it: the first pass of a run whose length comes from its data; every pass trains it later. */
        SURVEY,
        /** Nothing: read again before a replay begins, or past the end of a run's data. */
        SKIP
    }

    /** How far the run has got: where it reads next, and what it has trained. */
    record Progress(Map<Integer, Long> positions, long microBatches, long tokensSeen, long lastBatchSequence) {}

    private final TrainingPlan plan;
    /** Per partition, the offset of the run's first batch; null before it. */
    private Map<Integer, Long> startOffsets;
    /** Per partition, the end of the run's data once its first pass closed; null before, and without epochs. */
    private Map<Integer, Long> epochEnd;
    /** Batches in one pass over the data, once the first pass closed. */
    private Long epochBatches;
    /** Good batches counted by a first pass that does not train (a run whose length comes from its data). */
    private long surveyed;
    /** A replay was asked for: the rest of the poll's records come before it and are not trained. */
    private boolean rewinding;

    private final Map<Integer, Long> positions = new HashMap<>();
    /** Batches trained by the run, replays included. */
    private long microBatches;

    private long tokensSeen;
    private long lastBatchSequence = -1;
    private Progress atStep;

    EpochReplay(TrainingPlan plan) {
        this.plan = plan;
        begin();
    }

    /** A run starting from its base model, before its first batch. */
    void begin() {
        startOffsets = null;
        epochEnd = null;
        epochBatches = null;
        surveyed = 0;
        rewinding = false;
        positions.clear();
        microBatches = 0;
        tokensSeen = 0;
        lastBatchSequence = -1;
        atStep = progress();
    }

    /**
     * A run resumed from a checkpoint: it reads on from the checkpoint's offsets, or, when the checkpoint was taken
     * at the end of a pass and the run has passes left, from the start of the data (the next pass).
     */
    void restore(Manifest manifest) {
        begin();
        positions.putAll(manifest.consumedOffsets());
        startOffsets =
                manifest.startOffsets() == null || manifest.startOffsets().isEmpty()
                        ? null
                        : Map.copyOf(manifest.startOffsets());
        epochEnd = manifest.epochEnd() == null ? null : Map.copyOf(manifest.epochEnd());
        epochBatches = manifest.epochBatches();
        microBatches = manifest.microBatches();
        tokensSeen = manifest.tokensSeen();
        lastBatchSequence = manifest.lastBatchSequence();
        if (epochEnd != null && !budgetSpent() && passComplete()) {
            positions.clear();
            positions.putAll(startOffsets());
        }
        atStep = progress();
    }

    /** Where the run reads {@code partition} from: its next batch there (the beginning when it has read none). */
    long position(int partition) {
        return positions.getOrDefault(partition, 0L);
    }

    /** What to do with a batch of the run just read. */
    Verdict admit(ConsumerRecord<String, byte[]> record) {
        if (rewinding || (epochEnd != null && record.offset() >= epochEnd.getOrDefault(record.partition(), 0L))) {
            return Verdict.SKIP;
        }
        return plan.lengthFromData() && epochEnd == null ? Verdict.SURVEY : Verdict.TRAIN;
    }

    /** Whether {@code record} is the run's first batch, which fixes where its data starts. */
    boolean startsAt(ConsumerRecord<String, byte[]> record) {
        if (startOffsets != null) {
            return false;
        }
        startOffsets = Map.of(record.partition(), record.offset());
        return true;
    }

    /** Per partition, the offset of the run's first batch (empty before it). */
    Map<Integer, Long> startOffsets() {
        return startOffsets == null ? Map.of() : startOffsets;
    }

    /** A first-pass batch counted, not trained; {@code trainable} when it can be trained (a bad one is not counted). */
    void surveyed(ConsumerRecord<String, byte[]> record, boolean trainable) {
        if (trainable) {
            surveyed++;
        }
        positions.put(record.partition(), record.offset() + 1);
    }

    void trained(ConsumerRecord<String, byte[]> record, TrainBatch batch) {
        positions.put(record.partition(), record.offset() + 1);
        microBatches++;
        tokensSeen += batch.trainableTokens();
        lastBatchSequence = batch.sequenceNumber();
    }

    /** A batch that cannot be trained was read (and dead-lettered): the run reads past it. */
    void rejected(ConsumerRecord<String, byte[]> record) {
        positions.put(record.partition(), record.offset() + 1);
    }

    /** An optimiser step was taken: the progress a checkpoint records. */
    void stepTaken() {
        atStep = progress();
    }

    /** The run's progress as its last optimiser step left it. */
    Progress atStep() {
        return atStep;
    }

    private Progress progress() {
        return new Progress(Map.copyOf(positions), microBatches, tokensSeen, lastBatchSequence);
    }

    long microBatches() {
        return microBatches;
    }

    long tokensSeen() {
        return tokensSeen;
    }

    /** Whether the run has epochs and is in its first pass, with batches read that the quiet stream would close. */
    boolean firstPassWaiting() {
        return plan.epochs() != null && epochEnd == null && (microBatches > 0 || surveyed > 0) && !rewinding;
    }

    /** The stream went quiet: what arrived is the run's data. */
    void closeFirstPass() {
        epochEnd = Map.copyOf(positions);
        epochBatches = plan.lengthFromData() ? surveyed : microBatches;
    }

    /** Whether the run's data is known (its first pass closed), so that passes are replayed. */
    boolean dataKnown() {
        return epochEnd != null;
    }

    Map<Integer, Long> epochEnd() {
        return epochEnd;
    }

    Long epochBatches() {
        return epochBatches;
    }

    /** Micro-batches the run trains over its epochs; null while its data is not known. */
    Long budget() {
        return plan.epochs() == null || epochBatches == null ? null : plan.batchBudget(epochBatches);
    }

    boolean budgetSpent() {
        Long budget = budget();
        return budget != null && microBatches >= budget;
    }

    /** Whether the current pass has read the last batch of the data. */
    boolean passComplete() {
        return epochEnd != null && epochEnd.entrySet().stream().allMatch(e -> position(e.getKey()) >= e.getValue());
    }

    /** The next pass: where each partition is read again from. The rest of the poll's records are skipped. */
    Map<TopicPartition, Long> beginReplay() {
        Map<TopicPartition, Long> replay = new HashMap<>();
        epochEnd.keySet()
                .forEach(partition -> replay.put(
                        new TopicPartition(Topics.BATCHES, partition),
                        startOffsets().getOrDefault(partition, 0L)));
        rewinding = true;
        return replay;
    }

    /** The replay is in effect: the next batches read are the pass's first. */
    void rewound() {
        rewinding = false;
        positions.clear();
        positions.putAll(startOffsets());
    }

    /** Passes over the data so far, as a fraction; null while the first pass is open. */
    Double epoch() {
        return epochBatches == null || epochBatches == 0 ? null : (double) microBatches / epochBatches;
    }
}
