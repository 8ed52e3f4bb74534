package dev.streamtune.eval.score;

/**
 * A checkpoint that cannot be scored, for a reason of its own (a checksum mismatch, a missing or corrupt file, an
 * adapter that does not fit the base model): an error evaluation, and the service goes on.
 */
public class CheckpointProblem extends Exception {

    public CheckpointProblem(String message) {
        super(message);
    }

    public CheckpointProblem(String message, Throwable cause) {
        super(message, cause);
    }
}
