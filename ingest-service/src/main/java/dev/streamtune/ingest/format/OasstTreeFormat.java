package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * OpenAssistant message trees, one tree per record as in the {@code *.trees.jsonl} exports:
 * {@code {message_tree_id, prompt: {message_id, role, text, lang, replies: [...]}}}. The flat message exports
 * (one message per row) are assembled into trees by {@link OasstThreadBuilder} first.
 */
final class OasstTreeFormat implements ConversationFormat {

    @Override
    public RecordFormat format() {
        return RecordFormat.OASST;
    }

    @Override
    public boolean recognises(JsonNode record, FieldMapping mapping) {
        // A flat message row is recognised too, so that it gets the OASST explanation rather than being taken for
        // a plain text record (it has a 'text' field).
        return isFlatMessage(record)
                || record.path("prompt").isObject()
                        && (record.has("message_tree_id")
                                || record.path("prompt").has("replies"));
    }

    @Override
    public List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        if (isFlatMessage(record)) {
            throw new RecordException(
                    "message_id",
                    "an OASST message row (message_id, parent_id) on its own cannot"
                            + " become a conversation: ingest the whole export as a file, where threads are rebuilt across"
                            + " rows, or send whole trees (message_tree_id with a nested prompt and replies)");
        }
        JsonNode prompt = record.get("prompt");
        if (prompt == null || !prompt.isObject()) {
            throw new RecordException("prompt", "OASST tree record needs a 'prompt' object holding the first message");
        }
        String treeId = record.path("message_tree_id").asText(null);
        return OasstPaths.conversations(node(prompt, "prompt.", treeId), options);
    }

    private static OasstMessage node(JsonNode json, String at, String treeId) throws RecordException {
        OasstMessage message = OasstMessage.of(json, at, treeId);
        JsonNode replies = json.get("replies");
        if (replies != null && !replies.isNull()) {
            if (!replies.isArray()) {
                throw new RecordException(
                        at + "replies", "field '" + at + "replies': expected a list, found " + Fields.typeOf(replies));
            }
            for (int i = 0; i < replies.size(); i++) {
                message.replies.add(node(replies.get(i), at + "replies[" + i + "].", treeId));
            }
        }
        return message;
    }

    /** A row of the flat OASST export: one message with its parent's id. */
    static boolean isFlatMessage(JsonNode record) {
        return record.has("message_id") && record.has("parent_id") && record.has("role") && !record.has("prompt");
    }
}
