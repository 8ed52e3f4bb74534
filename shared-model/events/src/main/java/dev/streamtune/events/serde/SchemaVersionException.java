package dev.streamtune.events.serde;

import org.apache.kafka.common.errors.SerializationException;

/** A record written with a schema version this consumer does not read. */
public class SchemaVersionException extends SerializationException {

    public SchemaVersionException(String message) {
        super(message);
    }
}
