package dev.streamtune.ingest.pipeline;

import dev.streamtune.ingest.split.SplitPolicy;

/** An ingestion asked a dataset for a split other than the one the dataset has had since its first ingestion. */
public final class SplitConflictException extends RuntimeException {

    public SplitConflictException(String dataset, SplitPolicy own, SplitPolicy asked) {
        super("dataset '" + dataset + "' is split " + own.describe() + " since its first ingestion; this ingestion asks"
                + " for " + asked.describe() + ". Leave out split and seed to follow the dataset's split, or ingest"
                + " into a new dataset");
    }
}
