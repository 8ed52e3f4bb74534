package dev.streamtune.trainer.worker;

import java.time.Instant;

/**
 * The time a run goes by: how long its stream has been quiet (a checkpoint when idle, the end of a first pass) and
 * when a checkpoint's wait for its evaluation runs out. The system's in production; a test's own in tests, so that
 * "the stream went quiet" is an action, not a wait.
 */
public interface RunClock {

    /** Monotonic nanoseconds, for durations. */
    long nanoTime();

    /** The wall-clock time, for deadlines compared with when checkpoints were written. */
    Instant now();

    RunClock SYSTEM = new RunClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant now() {
            return Instant.now();
        }
    };
}
