package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.TreeSet;

/**
 * Reads a record in a forced format or the first format that recognises it. Detection order matters where
 * dialects overlap: Dolly and {prompt, response} records are also valid Alpaca records under the alias table, so
 * they are tried first, by their distinguishing fields.
 */
public final class RecordFormats {

    private static final List<ConversationFormat> DETECTION_ORDER = List.of(
            new ShareGptFormat(),
            new OpenAiMessagesFormat(),
            new OasstTreeFormat(),
            InstructionFormat.dolly(),
            InstructionFormat.promptResponse(),
            InstructionFormat.alpaca(),
            new PlainTextFormat());

    private RecordFormats() {}

    /** Whether the record is a row of the flat OASST message export, which needs {@link OasstThreadBuilder}. */
    public static boolean isOasstMessageRow(JsonNode record, FormatOptions options) {
        return (options.forced() == null || options.forced() == RecordFormat.OASST)
                && OasstTreeFormat.isFlatMessage(record);
    }

    public static List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        if (!record.isObject()) {
            throw new RecordException(null, "a record must be a JSON object, found " + Fields.typeOf(record));
        }
        return formatFor(record, options).read(record, options);
    }

    private static ConversationFormat formatFor(JsonNode record, FormatOptions options) throws RecordException {
        for (ConversationFormat format : DETECTION_ORDER) {
            if (options.forced() != null
                    ? format.format() == options.forced()
                    : format.recognises(record, options.mapping())) {
                return format;
            }
        }
        TreeSet<String> fields = new TreeSet<>();
        record.fieldNames().forEachRemaining(fields::add);
        throw new RecordException(
                null,
                "cannot tell the format of a record with fields " + fields + "; expected"
                        + " conversations (ShareGPT), messages (OpenAI), instruction+output (Alpaca),"
                        + " instruction+context+response (Dolly), prompt+response, a message tree (OASST) or text;"
                        + " or set format=... and map fields with map=target=source");
    }
}
