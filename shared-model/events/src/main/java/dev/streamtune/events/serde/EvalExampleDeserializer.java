package dev.streamtune.events.serde;

import dev.streamtune.events.EvalExample;

/** Kafka deserializer for {@link EvalExample}, named for configuration by class. */
public class EvalExampleDeserializer extends EventDeserializer<EvalExample> {

    public EvalExampleDeserializer() {
        super(EvalExample.class, EvalExample.SCHEMA_VERSION);
    }
}
