package dev.streamtune.trainer.worker;

import dev.streamtune.trainer.run.RunState;

/**
 * What is asked of a run from outside its training thread, and whether it has ended. A user's stop (the run ends
 * STOPPED, resumable) and early stopping (it ends FINISHED) are requests the training thread honours at its next
 * chance: after the poll in hand, or at once when no batch comes. A request outlives a worker's start-over after a
 * failure of the infrastructure; a resume is a new worker, with no request pending.
 */
final class RunControl {

    private volatile boolean stopRequested;
    private volatile RunState stopState = RunState.STOPPED;
    private volatile String stopReason;
    /** Nothing more is trained in this worker's life (finished, failed or stopped). */
    private volatile boolean ended;

    /** A user's stop: the run checkpoints what its completed steps trained and ends STOPPED. */
    void requestStop() {
        stopRequested = true;
    }

    /** Early stopping: the run checkpoints what its completed steps trained and ends FINISHED, saying why. */
    void requestFinish(String reason) {
        stopReason = reason;
        stopState = RunState.FINISHED;
        stopRequested = true;
    }

    /** Whether a stop or finish waits to be honoured. */
    boolean stopPending() {
        return stopRequested && !ended;
    }

    /** The state the requested stop ends the run in. */
    RunState stopState() {
        return stopState;
    }

    /** Why the run ends on request, at {@code step}. */
    String stopReason(long step) {
        return stopReason != null ? stopReason + "; stopped at step " + step : "stopped on request at step " + step;
    }

    boolean ended() {
        return ended;
    }

    /** Marks the run ended ({@code true}) in this worker's life, or training again after a start-over. */
    void ended(boolean value) {
        ended = value;
    }
}
