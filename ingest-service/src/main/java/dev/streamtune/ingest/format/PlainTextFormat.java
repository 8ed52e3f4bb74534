package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Message;
import java.util.List;

/**
 * Plain {@code text} records, for continued pre-training: the text becomes one assistant turn, so that it is
 * trained on under every {@code train_on} setting; the format name tells later stages it is raw text.
 */
final class PlainTextFormat implements ConversationFormat {

    @Override
    public RecordFormat format() {
        return RecordFormat.TEXT;
    }

    @Override
    public boolean recognises(JsonNode record, FieldMapping mapping) {
        return mapping.has(record, "text");
    }

    @Override
    public List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        String text = Fields.text(options.mapping().find(record, "text"));
        ObjectNode metadata = Fields.metadataOf(record);
        Fields.keepSourceId(record, metadata);
        return List.of(new ParsedRecord(format(), List.of(Message.assistant(text)), metadata, null));
    }
}
