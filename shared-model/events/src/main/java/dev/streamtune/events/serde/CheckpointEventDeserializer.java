package dev.streamtune.events.serde;

import dev.streamtune.events.CheckpointEvent;

/** Kafka deserializer for {@link CheckpointEvent}, named for configuration by class. */
public class CheckpointEventDeserializer extends EventDeserializer<CheckpointEvent> {

    public CheckpointEventDeserializer() {
        super(CheckpointEvent.class, CheckpointEvent.SCHEMA_VERSION);
    }
}
