package dev.streamtune.eval.checkpoint;

import dev.streamtune.streams.StartOverException;

/**
 * The database failed under a call of {@link EvalStore}: it could not be reached, a connection was lost or
 * terminated, a transaction could not be committed. Never the fault of the record being read when it happened, so it
 * is a {@link StartOverException}: a reader on the stage framework starts over from its last consistent position
 * (where the database says it stands) instead of dead-lettering a good record, and the scorer tries its round again.
 */
public class EvalStoreUnavailableException extends StartOverException {

    public EvalStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
