package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.serde.EventJson;
import java.io.IOException;

/** Typed access to record fields with messages that say what was expected. */
final class Fields {

    private Fields() {}

    static String text(FieldMapping.Lookup field) throws RecordException {
        return text(field.name(), field.value());
    }

    /** A required string. Numbers and booleans are not silently turned into text. */
    static String text(String name, JsonNode value) throws RecordException {
        if (value == null || value.isNull()) {
            throw new RecordException(name, "field '" + name + "' is missing; expected a string");
        }
        if (!value.isTextual()) {
            throw new RecordException(name, "field '" + name + "': expected a string, found " + typeOf(value));
        }
        return value.textValue();
    }

    /** An optional string: null when absent, an error when present with another type. */
    static String optionalText(FieldMapping.Lookup field) throws RecordException {
        return field.present() ? text(field) : null;
    }

    /**
     * An array; a string holding a JSON array is accepted too, because CSV cells and some exports carry nested
     * lists as JSON text.
     */
    static JsonNode array(FieldMapping.Lookup field) throws RecordException {
        JsonNode value = field.value();
        if (value == null) {
            throw new RecordException(field.name(), "field '" + field.name() + "' is missing; expected a list");
        }
        if (value.isTextual() && value.textValue().stripLeading().startsWith("[")) {
            try {
                value = EventJson.mapper().readTree(value.textValue());
            } catch (IOException e) {
                throw new RecordException(
                        field.name(),
                        "field '" + field.name() + "' holds text that is not a valid JSON list: "
                                + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        if (!value.isArray()) {
            throw new RecordException(
                    field.name(), "field '" + field.name() + "': expected a list, found " + typeOf(value));
        }
        return value;
    }

    static ObjectNode object(String name, JsonNode value) throws RecordException {
        if (!value.isObject()) {
            throw new RecordException(name, "'" + name + "': expected an object, found " + typeOf(value));
        }
        return (ObjectNode) value;
    }

    /** The record's {@code metadata} object, copied, or an empty object. */
    static ObjectNode metadataOf(JsonNode record) throws RecordException {
        JsonNode metadata = record.get("metadata");
        if (metadata == null || metadata.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        return object("metadata", metadata).deepCopy();
    }

    /** Keeps the input's own id, if it has one, as {@code metadata.source_id}. */
    static void keepSourceId(JsonNode record, ObjectNode metadata) {
        JsonNode id = record.get("id");
        if (id != null && (id.isTextual() || id.isNumber()) && !metadata.has("source_id")) {
            metadata.set("source_id", id);
        }
    }

    static String typeOf(JsonNode value) {
        return switch (value.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT, POJO -> "an object";
            case BOOLEAN -> "a boolean (" + value.asText() + ")";
            case NUMBER -> "a number (" + value.asText() + ")";
            case STRING -> "a string";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }
}
