package dev.streamtune.trainer.run;

import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.training.TrainingSession;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What a training run records about itself while its worker trains it: its state and why it changed, its steps,
 * checkpoints and the evaluations fed back to it. {@link RunStore} keeps it in PostgreSQL. A failure of the store
 * is a {@link RunStoreUnavailableException}: the worker starts over from its newest checkpoint, and the batch it was
 * handling is read again, never dead-lettered.
 */
public interface RunLedger {

    /** The run of this recipe version, created STARTING if it is new. */
    TrainingRun open(String runId, String recipeId, String recipeHash, String method, String model, Long maxSteps);

    /** Moves a run to {@code state}, recording why; nothing when it is there already. */
    void transition(String runId, RunState state, String reason);

    /**
     * Ends a run that was training because its recipe version was replaced or deleted: STOPPED, saying why, and
     * marked retired, so that it trains again by itself when its version is active again ({@link #reactivate}). A
     * run that had ended already keeps its state.
     */
    void retire(String runId, String reason);

    /**
     * Retires every other run of the recipe that is still recorded as training: the version {@code runId} is the
     * recipe's now, so those were replaced, whether or not their own worker lived to say so (it failed to record its
     * end, or the trainer died first).
     */
    void retireOthers(String recipeId, String runId, String reason);

    /** A retired run's version is active again: STARTING, saying so, no longer retired. */
    void reactivate(String runId, String reason);

    /**
     * The run starts (again) at {@code step}, the step of the checkpoint it restored (0 from its base model): the
     * rows of later steps, trained by a process that died before checkpointing them, are forgotten; they are trained
     * again.
     */
    void started(String runId, String device, String dtype, long step, long tokensSeen);

    /** The run's length in optimiser steps, once known (a run with epochs, when its first pass closes). */
    void length(String runId, long steps);

    void startOffsets(String runId, Map<Integer, Long> offsets);

    /**
     * One optimiser step: its row (replacing one trained before a resume) and the run's figures after it. The row
     * may be written behind the caller: a row that could not be written fails a later call of this method, or
     * {@link #stepsRecorded}.
     */
    void stepDone(
            String runId,
            TrainingSession.Step step,
            long tokensSeen,
            double tokensPerSecond,
            double nextLearningRate,
            Double epoch);

    /**
     * Returns once the rows of every step handed to {@link #stepDone} are written; a
     * {@link RunStoreUnavailableException} when one could not be. A checkpoint is written only after this, so that
     * no checkpoint covers a step whose row was lost (a run resumed from it would never train that step again).
     */
    void stepsRecorded(String runId);

    /**
     * A {@link RunStoreUnavailableException} when the row of a step handed to {@link #stepDone} is already known to
     * be lost; never waits for the rows still being written. A run whose stream has gone quiet checks this, so that a
     * lost row is trained again at once rather than when the next batch or checkpoint comes.
     */
    void reportLostSteps(String runId);

    void checkpointWritten(String runId, Manifest manifest, String location);

    void checkpointPublished(String runId, long step);

    /** Whether the checkpoint of this step was announced on {@code checkpoints} (acknowledged). */
    boolean published(String runId, long step);

    void checkpointStatus(String runId, Collection<Long> steps, SavedCheckpointStatus status);

    /** A batch the run read but could not train; recorded once however often it is read again. */
    void batchRejected(String runId, int partition, long offset, String reason);

    /** The run's validation losses recorded so far, by step (evaluations that carried an error left out). */
    List<EarlyStopping.Score> validationScores(String runId);

    /** The run's available checkpoints for which no evaluation has arrived yet, with when each was written. */
    Map<Long, Instant> awaitingEvaluation(String runId);

    void best(String runId, Long step, Double validLoss);
}
