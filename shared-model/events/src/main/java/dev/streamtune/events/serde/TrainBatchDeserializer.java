package dev.streamtune.events.serde;

import dev.streamtune.events.TrainBatch;

/** Kafka deserializer for {@link TrainBatch}, named for configuration by class. */
public class TrainBatchDeserializer extends EventDeserializer<TrainBatch> {

    public TrainBatchDeserializer() {
        super(TrainBatch.class, TrainBatch.SCHEMA_VERSION);
    }
}
