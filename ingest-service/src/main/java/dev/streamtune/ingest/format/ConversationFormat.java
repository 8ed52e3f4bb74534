package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** One input dialect: how to recognise its records and turn one into conversation turns. */
interface ConversationFormat {

    RecordFormat format();

    /** Whether the record looks like this dialect (used when the format is detected, not forced). */
    boolean recognises(JsonNode record, FieldMapping mapping);

    /**
     * The conversations in one record: one for every dialect but OASST trees, which may hold several paths.
     */
    List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException;
}
