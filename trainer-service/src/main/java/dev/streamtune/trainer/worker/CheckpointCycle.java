package dev.streamtune.trainer.worker;

import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.Topics;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.StartOverException;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunLedger;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import dev.streamtune.trainer.training.TrainingSession;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * A run's checkpoints: when one falls due, writing it, announcing it on {@code checkpoints}, restoring the newest at
 * a start, and rotating old ones away.
 *
 * <p>A checkpoint records the run as its last optimiser step left it. Its announcement carries the holds of the
 * batches that step covered, so the group's commit (the lag users see) passes a batch once the checkpoint that
 * trained it is acknowledged.
 *
 * <p>{@code save_total_limit} keeps the newest checkpoint and the best (lowest validation loss) always, and a
 * checkpoint eval-service has not evaluated yet until its evaluation arrives (eval-service scores the newest first
 * when it is behind, and the older ones after), or until {@code trainer.evaluation-wait} has passed since it was
 * written (a wait of 0: no evaluator runs). The best is judged from the evaluations themselves, read after the list
 * of those awaited, so that an evaluation landing in between protects its checkpoint either way.
 */
final class CheckpointCycle {

    private static final Logger LOG = Logger.getLogger(CheckpointCycle.class);

    private final TrainingPlan plan;
    private final String runId;
    private final CheckpointStore store;
    private final RunLedger ledger;
    private final TrainerMetrics metrics;
    private final Duration evaluationWait;
    private final RunClock clock;

    /** The batches read since the last checkpoint, each held on the commit watermark until one covers it. */
    private final List<InputOffset> sinceCheckpoint = new ArrayList<>();
    /** How many of {@link #sinceCheckpoint} the last optimiser step covers. */
    private int coveredByStep;

    private long stepsSinceCheckpoint;
    /** A pass ended inside the step being accumulated: that step is checkpointed (strategy epoch). */
    private boolean passEndedInStep;

    private final List<Long> awaitingAcknowledgement = new ArrayList<>();
    /** Set when evaluations arrived (from the evaluation feed's thread): rotation looks again. */
    private volatile boolean evaluationsChanged = true;

    private Instant nextRotation = Instant.MIN;

    CheckpointCycle(
            TrainingPlan plan,
            String runId,
            CheckpointStore store,
            RunLedger ledger,
            TrainerMetrics metrics,
            Duration evaluationWait,
            RunClock clock) {
        this.plan = plan;
        this.runId = runId;
        this.store = store;
        this.ledger = ledger;
        this.metrics = metrics;
        this.evaluationWait = evaluationWait;
        this.clock = clock;
    }

    /** A (re)start: nothing read yet, nothing waits for an acknowledgement. */
    void reset() {
        sinceCheckpoint.clear();
        coveredByStep = 0;
        stepsSinceCheckpoint = 0;
        passEndedInStep = false;
        awaitingAcknowledgement.clear();
        evaluationsChanged = true;
        nextRotation = Instant.MIN;
    }

    // --- restoring ------------------------------------------------------------------------------------------------

    /** Restores one verified checkpoint into the run's state; throws when it cannot. */
    @FunctionalInterface
    interface Restorer {
        void restore(CheckpointStore.Found checkpoint) throws IOException;
    }

    /**
     * Restores the newest checkpoint that verifies and restores, newest first: a damaged one, or one that cannot be
     * restored, is reported, marked corrupt and passed over ({@code afterFailedRestore} cleans up a half-applied
     * one). Null when none is usable. A sound checkpoint trained from an earlier {@code batches} topic (deleted and
     * created again since) ends the search with a {@link TopicRecreatedException}: its offsets mean nothing now, and
     * an older checkpoint would say the same.
     */
    CheckpointStore.Found restoreNewest(String batchesTopicId, Restorer restorer, Runnable afterFailedRestore)
            throws IOException {
        return store.newestUsable(
                found -> {
                    Manifest manifest = found.manifest();
                    if (manifest.batchesTopicId() != null
                            && !manifest.batchesTopicId().equals(batchesTopicId)) {
                        throw new TopicRecreatedException(
                                "run " + runId + ": " + found.folder().getFileName() + " was trained"
                                        + " from an earlier '" + Topics.BATCHES + "' topic (id "
                                        + manifest.batchesTopicId() + "; the"
                                        + " topic now has id " + batchesTopicId
                                        + ": it was deleted and created again), so its offsets"
                                        + " do not apply. To train again from the start, move " + store.runFolder()
                                        + " away, or post"
                                        + " the recipe under a new name");
                    }
                    try {
                        restorer.restore(found);
                    } catch (IOException | RuntimeException e) {
                        afterFailedRestore.run();
                        throw new CheckpointStore.UnusableException("cannot be restored: " + e.getMessage(), e);
                    }
                },
                passedOver -> corrupt(passedOver.step(), "is unusable, passing over it: " + passedOver.problem()));
    }

    private void corrupt(long step, String problem) {
        LOG.warnf("run %s: checkpoint-%s %s", runId, step, problem);
        ledger.checkpointStatus(runId, List.of(step), SavedCheckpointStatus.CORRUPT);
        metrics.corruptCheckpoint(plan.recipeId());
    }

    /** A checkpoint written just before a crash may never have been announced: announce it now. */
    void announceIfUnacknowledged(Manifest manifest, Path folder, AcknowledgedPublisher publisher) {
        if (!ledger.published(runId, manifest.step())) {
            ledger.checkpointWritten(runId, manifest, folder.toUri().toString());
            publisher.publish(new Outgoing(Topics.CHECKPOINTS, plan.recipeId(), event(manifest, folder)));
            ledger.checkpointPublished(runId, manifest.step());
        }
    }

    /** The newest checkpoint's offsets refer to a batches topic that was deleted and created again. */
    static final class TopicRecreatedException extends RuntimeException {
        TopicRecreatedException(String message) {
            super(message);
        }
    }

    // --- the cycle ----------------------------------------------------------------------------------------------

    /** A batch was read: it is held until a checkpoint covers it. */
    void read(InputOffset input) {
        sinceCheckpoint.add(input);
    }

    /** An optimiser step was taken: it covers the batches read so far. */
    void stepTaken() {
        stepsSinceCheckpoint++;
        coveredByStep = sinceCheckpoint.size();
    }

    /** Whether steps were taken since the last checkpoint. */
    boolean unsaved() {
        return stepsSinceCheckpoint > 0;
    }

    /**
     * Whether {@code step} takes a checkpoint: as save_strategy and eval_strategy say, at max_steps, and when it
     * completes the step a pass ended inside (strategy epoch).
     */
    boolean due(long step) {
        return passEndedInStep || plan.checkpoints().dueAt(step);
    }

    /**
     * A pass over the run's data ended. With an epoch strategy its step is checkpointed: now (true) when the pass
     * ended between optimiser steps, or, when it ended inside an accumulated step (accumulation runs on across passes),
     * once that step is taken ({@link #due}).
     */
    boolean passEnded(boolean midStep) {
        if (!plan.checkpoints().dueAtEpochEnd()) {
            return false;
        }
        if (midStep) {
            passEndedInStep = true;
            return false;
        }
        return unsaved();
    }

    /**
     * Writes a checkpoint of {@code manifest} (the run as its last step left it) with the session's state and
     * artefact, records it, and adds its announcement to {@code out}, releasing the batches the step covered once
     * acknowledged. A write that fails is a failure of the run's state, not of a batch: the worker starts over.
     */
    void write(TrainingSession session, Manifest manifest, Output out) {
        long started = System.nanoTime();
        Manifest written;
        try {
            written = store.write(manifest, folder -> {
                session.saveState(folder);
                session.tuning().writeArtefact(folder);
            });
        } catch (IOException e) {
            throw new StartOverException(
                    "run " + runId + ": cannot write checkpoint-" + manifest.step() + " under " + store.runFolder()
                            + ": " + e.getMessage(),
                    e);
        }
        Path folder = CheckpointStore.folderName(store.runFolder(), written.step());
        ledger.checkpointWritten(runId, written, folder.toUri().toString());
        List<InputOffset> covered = sinceCheckpoint.subList(0, coveredByStep);
        out.send(new Outgoing(Topics.CHECKPOINTS, plan.recipeId(), event(written, folder)), List.copyOf(covered));
        covered.clear();
        coveredByStep = 0;
        awaitingAcknowledgement.add(written.step());
        stepsSinceCheckpoint = 0;
        passEndedInStep = false;
        metrics.checkpoint(plan.recipeId(), (System.nanoTime() - started) / 1e9);
        LOG.infof("run %s: checkpoint-%s written (%s)", runId, written.step(), written.checksum());
    }

    private CheckpointEvent event(Manifest manifest, Path folder) {
        return new CheckpointEvent(
                CheckpointEvent.SCHEMA_VERSION,
                plan.recipeId(),
                runId,
                manifest.step(),
                manifest.tokensSeen(),
                manifest.trainLoss(),
                folder.toUri().toString(),
                manifest.format(),
                manifest.checksum(),
                manifest.consumedOffsets(),
                manifest.createdAt());
    }

    /**
     * The poll's output was acknowledged: the checkpoints it announced are recorded as published, and old ones are
     * rotated away when something changed (a checkpoint written, an evaluation arrived, a wait ran out).
     */
    void acknowledged() {
        for (Long step : awaitingAcknowledgement) {
            ledger.checkpointPublished(runId, step);
        }
        boolean written = !awaitingAcknowledgement.isEmpty();
        awaitingAcknowledgement.clear();
        if (plan.saveTotalLimit() != null
                && (written || evaluationsChanged || !clock.now().isBefore(nextRotation))) {
            rotate();
        }
    }

    /** An evaluation of the run arrived (on the evaluation feed's thread). */
    void evaluationArrived() {
        evaluationsChanged = true;
    }

    private void rotate() {
        evaluationsChanged = false;
        Instant now = clock.now();
        Set<Long> kept = new HashSet<>();
        Instant next = Instant.MAX;
        // awaited first, scores second: an evaluation landing between the two reads is in one of them
        for (Map.Entry<Long, Instant> awaited : ledger.awaitingEvaluation(runId).entrySet()) {
            Instant deadline = awaited.getValue().plus(evaluationWait);
            if (now.isBefore(deadline)) {
                kept.add(awaited.getKey());
                next = deadline.isBefore(next) ? deadline : next;
            }
        }
        Long best = EarlyStopping.judge(ledger.validationScores(runId), null, 0).bestStep();
        if (best != null) {
            kept.add(best);
        }
        nextRotation = next;
        try {
            ledger.checkpointStatus(runId, store.prune(plan.saveTotalLimit(), kept), SavedCheckpointStatus.DELETED);
        } catch (IOException e) {
            LOG.warnf("run %s: cannot delete old checkpoints: %s", runId, e.getMessage());
        }
    }
}
