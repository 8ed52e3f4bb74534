package dev.streamtune.trainer.run;

/** What became of a checkpoint a run saved; stored by name in the checkpoint table's {@code status}. */
public enum SavedCheckpointStatus {
    /** On the volume, for a resume, an evaluation or a merged export. */
    AVAILABLE,
    /** Removed to keep the run within save_total_limit. */
    DELETED,
    /** Found unusable when a resume read it back, and passed over. */
    CORRUPT
}
