package dev.streamtune.streams;

/**
 * Thrown by a stage while handling a record when the fault is not the record's but the stage's own state (a
 * training step that failed half way through its gradients, say): the record is not dead-lettered; the worker
 * starts over from its committed (or {@linkplain StreamWorker#positionsOnAssignment chosen}) positions,
 * rebuilding its state in {@link StreamWorker#starting}, as after a failure of the infrastructure.
 */
public class StartOverException extends RuntimeException {

    public StartOverException(String message, Throwable cause) {
        super(message, cause);
    }
}
