package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Parses the text of one JSON record, reporting errors with the line and column in the file. A record is exactly
 * one JSON value: anything after it but whitespace is refused, because a reader that stops at the end of the first
 * value would silently drop a second record pasted onto the same line.
 */
final class JsonText {

    static final String TRAILING_CONTENT =
            "invalid JSON: content after the end of the record; a record is exactly" + " one JSON value";

    /** Jackson's only complaint after a complete root value: a number followed by something other than space. */
    private static final String NUMBER_RUNS_ON = "Expected space separating root-level values";

    private JsonText() {}

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
        JsonNode node;
        int valueEnd;
        try (JsonParser parser = EventJson.mapper().createParser(text)) {
            node = EventJson.mapper().readTree(parser);
            valueEnd = (int) parser.currentLocation().getCharOffset();
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            if (at != null && e.getOriginalMessage().endsWith(NUMBER_RUNS_ON)) {
                // the number was a whole value; Jackson points at the character that follows it
                throw new RecordSyntaxException(
                        where(text, (int) at.getCharOffset(), firstLine, firstColumn) + ": " + TRAILING_CONTENT);
            }
            String where = at == null
                    ? "line " + firstLine
                    : "line " + (firstLine + at.getLineNr() - 1) + " column "
                            + (at.getLineNr() == 1 ? firstColumn - 1 + at.getColumnNr() : at.getColumnNr());
            throw new RecordSyntaxException(where + ": invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("reading a string cannot fail", e);
        }
        if (node == null || node.isMissingNode()) {
            throw new RecordSyntaxException("line " + firstLine + ": empty record");
        }
        int trailing = skipWhitespace(text, valueEnd);
        if (trailing < text.length()) {
            throw new RecordSyntaxException(where(text, trailing, firstLine, firstColumn) + ": " + TRAILING_CONTENT);
        }
        return node;
    }

    private static int skipWhitespace(String text, int from) {
        int i = from;
        while (i < text.length() && isJsonWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isJsonWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /** "line L column C" of a character of the text, in file coordinates. */
    private static String where(String text, int offset, long firstLine, int firstColumn) {
        long line = firstLine;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        int column = offset - lineStart + 1;
        return "line " + line + " column " + (line == firstLine ? firstColumn - 1 + column : column);
    }

    static final class RecordSyntaxException extends Exception {
        RecordSyntaxException(String message) {
            super(message);
        }
    }
}
