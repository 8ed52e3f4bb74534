package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI chat fine-tuning records: {@code messages: [{role, content}]} with an optional {@code metadata} object,
 * kept whole (the EmoGPT data filters on {@code metadata.augmented}). Content may be a string or a list of text
 * parts. A turn may carry OpenAI's {@code weight}: 0 keeps it out of training (it stays as context), 1 (the
 * default) trains it as the recipe says; any other value is refused.
 */
final class OpenAiMessagesFormat implements ConversationFormat {

    @Override
    public RecordFormat format() {
        return RecordFormat.OPENAI;
    }

    @Override
    public boolean recognises(JsonNode record, FieldMapping mapping) {
        return mapping.has(record, "messages");
    }

    @Override
    public List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        FieldMapping.Lookup field = options.mapping().find(record, "messages");
        JsonNode turns = Fields.array(field);
        String roleName = options.mapping().sourceOf("role");
        String contentName = options.mapping().sourceOf("content");
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < turns.size(); i++) {
            String at = field.name() + "[" + i + "]";
            JsonNode turn = Fields.object(at, turns.get(i));
            Role role =
                    options.roles().resolve(at + "." + roleName, Fields.text(at + "." + roleName, turn.get(roleName)));
            messages.add(new Message(role, content(at, turn, contentName), weight(at, turn)));
        }
        ObjectNode metadata = Fields.metadataOf(record);
        Fields.keepSourceId(record, metadata);
        return List.of(new ParsedRecord(format(), messages, metadata, null));
    }

    private static Integer weight(String at, JsonNode turn) throws RecordException {
        JsonNode weight = turn.get("weight");
        if (weight == null || weight.isNull()) {
            return null;
        }
        // 0.0 and 1.0 are the same weights as written by tools that keep numbers as floats.
        if (weight.isNumber() && (weight.doubleValue() == 0 || weight.doubleValue() == 1)) {
            return weight.intValue();
        }
        String field = at + ".weight";
        throw new RecordException(
                field,
                "field '" + field + "': expected 0 (not trained on) or 1 (trained), found "
                        + (weight.isNumber() ? weight.asText() : Fields.typeOf(weight)));
    }

    private static String content(String at, JsonNode turn, String contentName) throws RecordException {
        String field = at + "." + contentName;
        JsonNode content = turn.get(contentName);
        if ((content == null || content.isNull()) && turn.hasNonNull("tool_calls")) {
            throw new RecordException(
                    at + ".tool_calls",
                    "'" + at + "' is an assistant tool call (tool_calls, no "
                            + "content); tool-call turns are not supported yet");
        }
        if (content != null && content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (int p = 0; p < content.size(); p++) {
                JsonNode part = content.get(p);
                String type = part.path("type").asText("");
                if (!type.equals("text")) {
                    throw new RecordException(
                            field + "[" + p + "]",
                            "'" + field + "[" + p + "]' is a content part of type '" + type
                                    + "'; only text parts are supported");
                }
                text.append(Fields.text(field + "[" + p + "].text", part.get("text")));
            }
            return text.toString();
        }
        return Fields.text(field, content);
    }
}
