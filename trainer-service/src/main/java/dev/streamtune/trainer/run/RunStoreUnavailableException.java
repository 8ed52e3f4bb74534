package dev.streamtune.trainer.run;

import dev.streamtune.streams.StartOverException;

/**
 * The run store (PostgreSQL) failed: an infrastructure failure, not a bad batch. Thrown while a batch is handled it
 * makes the worker start over from its newest checkpoint, reading the batch again, instead of dead-lettering it.
 */
public class RunStoreUnavailableException extends StartOverException {

    public RunStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code failure}, unless it says this already. */
    static RunStoreUnavailableException of(RuntimeException failure) {
        return failure instanceof RunStoreUnavailableException unavailable
                ? unavailable
                : new RunStoreUnavailableException(
                        "the run store (PostgreSQL) failed: " + failure.getMessage(), failure);
    }
}
