package dev.streamtune.events.serde;

import org.apache.kafka.common.errors.SerializationException;

/** A record written with a schema version this consumer does not read. */
public class SchemaVersionException extends SerializationException {

    /** The field such a record is refused for, as its dead letter names it. */
    public static final String FIELD = "schemaVersion";

    public SchemaVersionException(String message) {
        super(message);
    }
}
