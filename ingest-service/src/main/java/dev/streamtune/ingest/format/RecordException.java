package dev.streamtune.ingest.format;

/**
 * A record that cannot become a conversation. The message says what was expected, for a person to act on;
 * {@code field} names the offending field (a JSON path such as {@code conversations[2].from}) when one is to blame.
 * The location (file, line, offset) is added by whoever knows it.
 */
public class RecordException extends Exception {

    private final String field;

    public RecordException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
