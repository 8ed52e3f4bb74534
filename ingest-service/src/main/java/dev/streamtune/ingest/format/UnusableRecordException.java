package dev.streamtune.ingest.format;

/**
 * A well-formed record that yields no conversation, such as an OASST tree whose prompt has no reply. It is counted
 * as unused with this reason, not dead-lettered: nothing is wrong with it.
 */
public class UnusableRecordException extends RecordException {

    public UnusableRecordException(String reason) {
        super(null, reason);
    }
}
