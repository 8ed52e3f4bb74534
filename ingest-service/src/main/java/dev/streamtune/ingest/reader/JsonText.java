package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;

/** Parses the text of one JSON record, reporting errors with the line and column in the file. */
final class JsonText {

    private JsonText() {
    }

    /**
     * @param firstLine the file line the text starts on, so that a parse error points into the file
     */
    static JsonNode parse(String text, long firstLine) throws RecordSyntaxException {
        return parse(text, firstLine, 1);
    }

    /**
     * @param firstColumn the column the text starts at on its first line (a list element may start mid-line)
     */
    static JsonNode parse(String text, long firstLine, int firstColumn) throws RecordSyntaxException {
        try {
            JsonNode node = EventJson.mapper().readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new RecordSyntaxException("line " + firstLine + ": empty record");
            }
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "line " + firstLine
                    : "line " + (firstLine + at.getLineNr() - 1) + " column "
                    + (at.getLineNr() == 1 ? firstColumn - 1 + at.getColumnNr() : at.getColumnNr());
            throw new RecordSyntaxException(where + ": invalid JSON: " + e.getOriginalMessage());
        }
    }

    static final class RecordSyntaxException extends Exception {
        RecordSyntaxException(String message) {
            super(message);
        }
    }
}
