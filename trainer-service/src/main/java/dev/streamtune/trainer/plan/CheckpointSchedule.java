package dev.streamtune.trainer.plan;

import java.util.Locale;

/**
 * When a run takes a checkpoint, from Hugging Face's {@code save_strategy} / {@code save_steps} and
 * {@code eval_strategy} / {@code eval_steps}. Here eval-service scores every checkpoint the trainer announces, so
 * an evaluation is a checkpoint: the run checkpoints at every step the Trainer would save at or evaluate at, and at
 * its end (max_steps, or its epochs trained), whose checkpoint is the run's artefact whatever the strategies say.
 *
 * <ul>
 *   <li>{@code steps}: every {@code save_steps} (or {@code eval_steps}) optimiser steps;</li>
 *   <li>{@code epoch}: at the end of every pass over the run's data, at the step the pass ended in: where a pass
 *       ends part-way through an accumulated step (accumulation runs on across passes here, where the Trainer steps
 *       at each epoch's end), the step that completes it, in the next pass;</li>
 *   <li>{@code no}: not at all.</li>
 * </ul>
 *
 * <p>Without {@code eval_steps}, an {@code eval_strategy: steps} evaluates every {@code save_steps} (the Trainer
 * falls back to {@code logging_steps}, which has no effect here). The checkpoints taken when the stream goes quiet
 * and when a run is stopped are not part of the schedule: they keep a run's work and let its batches be committed.
 *
 * @param saveSteps a checkpoint every this many steps when {@code save} is {@link Strategy#STEPS}
 * @param evalSteps a checkpoint every this many steps when {@code evaluation} is {@link Strategy#STEPS}
 * @param maxSteps  the run's last step, checkpointed always; null when the run has no step count of its own
 */
public record CheckpointSchedule(Strategy save, int saveSteps, Strategy evaluation, int evalSteps, Long maxSteps) {

    /** Hugging Face's {@code IntervalStrategy}. */
    public enum Strategy {
        NO,
        STEPS,
        EPOCH;

        /** The strategy a recipe names: {@code no}, {@code steps} or {@code epoch} (RecipeParser checked it). */
        public static Strategy of(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public CheckpointSchedule {
        if (saveSteps <= 0 || evalSteps <= 0) {
            throw new IllegalArgumentException("save_steps and eval_steps are positive");
        }
    }

    /** Whether the optimiser step {@code step} just taken is checkpointed. */
    public boolean dueAt(long step) {
        return (save == Strategy.STEPS && step % saveSteps == 0)
                || (evaluation == Strategy.STEPS && step % evalSteps == 0)
                || (maxSteps != null && step == maxSteps);
    }

    /** Whether the end of a pass over the run's data is checkpointed (at the step the pass ended in). */
    public boolean dueAtEpochEnd() {
        return save == Strategy.EPOCH || evaluation == Strategy.EPOCH;
    }

    /** Whether any checkpoint falls due before the run's end. */
    public boolean periodic() {
        return save != Strategy.NO || evaluation != Strategy.NO;
    }
}
