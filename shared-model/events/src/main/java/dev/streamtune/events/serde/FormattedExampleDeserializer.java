package dev.streamtune.events.serde;

import dev.streamtune.events.FormattedExample;

/** Kafka deserializer for {@link FormattedExample}, named for configuration by class. */
public class FormattedExampleDeserializer extends EventDeserializer<FormattedExample> {

    public FormattedExampleDeserializer() {
        super(FormattedExample.class, FormattedExample.SCHEMA_VERSION);
    }
}
