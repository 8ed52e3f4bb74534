package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * ShareGPT (FastChat, Axolotl, LLaMA-Factory): {@code conversations: [{from, value}]}, an optional top-level
 * {@code system} prompt and {@code id}. Turns written as {@code {role, content}} are read too.
 */
final class ShareGptFormat implements ConversationFormat {

    @Override
    public RecordFormat format() {
        return RecordFormat.SHAREGPT;
    }

    @Override
    public boolean recognises(JsonNode record, FieldMapping mapping) {
        return mapping.has(record, "conversations");
    }

    @Override
    public List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        FieldMapping mapping = options.mapping();
        FieldMapping.Lookup conversations = mapping.find(record, "conversations");
        JsonNode turns = Fields.array(conversations);
        List<Message> messages = new ArrayList<>();
        String system = Fields.optionalText(mapping.find(record, "system"));
        String fromName = mapping.sourceOf("from");
        String valueName = mapping.sourceOf("value");
        for (int i = 0; i < turns.size(); i++) {
            String at = conversations.name() + "[" + i + "]";
            JsonNode turn = Fields.object(at, turns.get(i));
            FieldMapping.Lookup speaker = lookup(turn, at, fromName, "role");
            FieldMapping.Lookup value = lookup(turn, at, valueName, "content");
            Role role = options.roles().resolve(speaker.name(), Fields.text(speaker));
            messages.add(new Message(role, Fields.text(value)));
        }
        if (system != null && !system.isEmpty()) {
            if (!messages.isEmpty() && messages.get(0).role() == Role.SYSTEM) {
                if (!messages.get(0).content().equals(system)) {
                    throw new RecordException(
                            "system",
                            "record has both a top-level 'system' prompt and a different"
                                    + " leading system turn; keep one");
                }
            } else {
                messages.add(0, Message.system(system));
            }
        }
        ObjectNode metadata = Fields.metadataOf(record);
        Fields.keepSourceId(record, metadata);
        return List.of(new ParsedRecord(format(), messages, metadata, null));
    }

    /** A turn field under its ShareGPT name, else its OpenAI-style name, located for error messages. */
    private static FieldMapping.Lookup lookup(JsonNode turn, String at, String primary, String alternative) {
        JsonNode value = turn.get(primary);
        if (value != null && !value.isNull()) {
            return new FieldMapping.Lookup(at + "." + primary, value);
        }
        JsonNode other = turn.get(alternative);
        if (other != null && !other.isNull()) {
            return new FieldMapping.Lookup(at + "." + alternative, other);
        }
        return new FieldMapping.Lookup(at + "." + primary, null);
    }
}
