package dev.streamtune.events.serde;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Event;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads one {@link Event} type from JSON. The schema version is checked before the record is bound, so a record
 * from a newer producer is refused with a message that says so instead of being half-read. Unknown fields are
 * tolerated. A null value (a tombstone) reads as null.
 */
public class EventDeserializer<T extends Event> implements Deserializer<T> {

    private final Class<T> type;
    private final int schemaVersion;

    public EventDeserializer(Class<T> type, int schemaVersion) {
        this.type = type;
        this.schemaVersion = schemaVersion;
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        JsonNode tree;
        try {
            tree = EventJson.mapper().readTree(data);
        } catch (JsonProcessingException e) {
            throw new SerializationException(where(topic) + "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SerializationException(where(topic) + "unreadable record: " + e.getMessage(), e);
        }
        checkSchemaVersion(topic, tree);
        try {
            return EventJson.mapper().treeToValue(tree, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException(where(topic) + "not a valid " + type.getSimpleName() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Reads an event from a JSON string, with the same checks as from a topic. */
    public T fromJson(String json) {
        return deserialize(null, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void checkSchemaVersion(String topic, JsonNode tree) {
        if (!tree.isObject()) {
            throw new SerializationException(where(topic) + type.getSimpleName() + " must be a JSON object, found "
                    + tree.getNodeType().name().toLowerCase());
        }
        JsonNode version = tree.get("schemaVersion");
        if (version == null || version.isNull()) {
            throw new SchemaVersionException(where(topic) + type.getSimpleName()
                    + " has no schemaVersion; this consumer reads schemaVersion " + schemaVersion);
        }
        if (!version.isInt() || version.intValue() != schemaVersion) {
            throw new SchemaVersionException(where(topic) + type.getSimpleName() + " has schemaVersion " + version
                    + " but this consumer reads schemaVersion " + schemaVersion
                    + "; upgrade the consumer or republish the record with schemaVersion " + schemaVersion);
        }
    }

    private static String where(String topic) {
        return topic == null ? "" : "topic " + topic + ": ";
    }
}
