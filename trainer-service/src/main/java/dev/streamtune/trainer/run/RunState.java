package dev.streamtune.trainer.run;

/** Where a training run is. */
public enum RunState {
    /** Loading its model and restoring its newest checkpoint. */
    STARTING,
    /** Training batches as they arrive (or waiting for them). */
    RUNNING,
    /** Stopped by a user; resumed by POST /runs/{id}/resume. */
    STOPPED,
    /** Reached max_steps, or early stopping ended it. */
    FINISHED,
    /** Stopped by a failure it cannot recover from by itself (see the run's failure). */
    FAILED;

    public boolean trains() {
        return this == STARTING || this == RUNNING;
    }
}
