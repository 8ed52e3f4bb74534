package dev.streamtune.events.serde;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads one {@link Event} type from JSON. The schema version is checked before the record is bound, so a record
 * from a newer producer is refused with a message that says so instead of being half-read. Unknown fields are
 * tolerated. A null value (a tombstone) reads as null.
 *
 * <p>Every stage reads every record it consumes through here, so the usual case is made cheap: the schema version
 * is found by scanning the top-level fields (writers put it first) and the record is bound straight from the bytes.
 * Anything unusual (another version, no version, a version that is not a plain int, JSON that does not bind) is
 * read again the careful way, through a tree, which says exactly what is wrong.
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
        if (hasOurSchemaVersion(data)) {
            try {
                T event = EventJson.mapper().readValue(data, type);
                if (event != null && event.schemaVersion() == schemaVersion) {
                    return event;
                }
            } catch (IOException | IllegalArgumentException e) {
                // said precisely below
            }
        }
        return readThroughTree(topic, data);
    }

    /** Whether the first top-level {@code schemaVersion} field is the int this deserializer reads. */
    private boolean hasOurSchemaVersion(byte[] data) {
        try (JsonParser parser = EventJson.mapper().createParser(data)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("schemaVersion".equals(field)) {
                    return value == JsonToken.VALUE_NUMBER_INT
                            && parser.getNumberType() == JsonParser.NumberType.INT
                            && parser.getIntValue() == schemaVersion;
                }
                parser.skipChildren();
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private T readThroughTree(String topic, byte[] data) {
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
            throw new SerializationException(
                    where(topic) + "not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Reads an event from a JSON string, with the same checks as from a topic. */
    public T fromJson(String json) {
        return deserialize(null, json.getBytes(StandardCharsets.UTF_8));
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
