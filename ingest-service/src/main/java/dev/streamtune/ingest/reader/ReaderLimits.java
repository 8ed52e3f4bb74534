package dev.streamtune.ingest.reader;

/**
 * @param maxRecordBytes a record larger than this is rejected without being parsed (it is skipped, not buffered)
 * @param payloadBytes   how much of a rejected record's original bytes a dead letter keeps
 */
public record ReaderLimits(int maxRecordBytes, int payloadBytes) {

    public ReaderLimits {
        if (maxRecordBytes <= 0 || payloadBytes <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    String tooLarge(long size) {
        return "record is " + size + " bytes, over the limit of " + maxRecordBytes + " bytes (ingest.max-record-size)";
    }
}
