package dev.streamtune.events.serde;

import dev.streamtune.events.DeadLetter;

/** Kafka deserializer for {@link DeadLetter}, named for configuration by class. */
public class DeadLetterDeserializer extends EventDeserializer<DeadLetter> {

    public DeadLetterDeserializer() {
        super(DeadLetter.class, DeadLetter.SCHEMA_VERSION);
    }
}
