package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.pipeline.IngestReceipt;

/**
 * The body of every error response.
 *
 * @param partialReceipt for an ingestion stopped by a platform failure, what it had done until then
 */
public record ApiError(int status, String error, IngestReceipt partialReceipt) {

    public static ApiError of(int status, String error) {
        return new ApiError(status, error, null);
    }
}
