package dev.streamtune.eval.checkpoint;

/** Where a checkpoint stands with the evaluator. */
public enum CheckpointStatus {
    /** Announced, waiting for its turn (and for the recipe's eval sets to be complete). */
    PENDING,
    /** A newer checkpoint went first while the evaluator was behind; scored when the queue is empty. */
    SKIPPED,
    /** Being scored now. */
    SCORING,
    SCORED,
    /** Could not be scored (checksum mismatch, missing or corrupt files, unknown recipe): an error evaluation. */
    FAILED
}
