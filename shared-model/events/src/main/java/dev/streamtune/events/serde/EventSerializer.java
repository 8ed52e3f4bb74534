package dev.streamtune.events.serde;

import dev.streamtune.events.Event;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/** Writes any {@link Event} as UTF-8 JSON. A null event is a tombstone and stays null. */
public class EventSerializer<T extends Event> implements Serializer<T> {

    @Override
    public byte[] serialize(String topic, T event) {
        if (event == null) {
            return null;
        }
        try {
            return EventJson.mapper().writeValueAsBytes(event);
        } catch (IOException e) {
            throw new SerializationException(
                    "cannot write " + event.getClass().getSimpleName() + " for topic " + topic + ": " + e.getMessage(),
                    e);
        }
    }
}
