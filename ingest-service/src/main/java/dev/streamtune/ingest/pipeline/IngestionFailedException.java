package dev.streamtune.ingest.pipeline;

/**
 * An ingestion stopped by a failure of the platform (Kafka or the database unavailable), not of the data. It
 * carries the receipt up to the failure: what it reports as published was acknowledged and recorded; sending the
 * same input again is safe, as those records come back as duplicates.
 */
public class IngestionFailedException extends RuntimeException {

    private final IngestReceipt partialReceipt;

    public IngestionFailedException(String message, IngestReceipt partialReceipt, Throwable cause) {
        super(message, cause);
        this.partialReceipt = partialReceipt;
    }

    public IngestReceipt partialReceipt() {
        return partialReceipt;
    }
}
