package dev.streamtune.events.serde;

import dev.streamtune.events.Evaluation;

/** Kafka deserializer for {@link Evaluation}, named for configuration by class. */
public class EvaluationDeserializer extends EventDeserializer<Evaluation> {

    public EvaluationDeserializer() {
        super(Evaluation.class, Evaluation.SCHEMA_VERSION);
    }
}
