package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A JSON file holding a list of records ({@code [ {...}, {...} ]}), read one element at a time.
 *
 * <p>The reader finds each element's bytes itself, tracking only nesting depth and string state, then hands the
 * element alone to Jackson. This is hand-written on purpose: Jackson's streaming parser cannot resume after a
 * malformed element and must materialise an element to measure it, while here a malformed element is one failed
 * record and the next element is read as usual, and an element over the size limit is skipped without being held.
 * A root object is refused with the message users expect: "JSON file must contain a list of objects".
 */
final class JsonArrayReader extends RecordReader {

    private enum State {
        START,
        BEFORE_ELEMENT,
        AFTER_ELEMENT,
        DONE
    }

    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    private final SourceRef.Kind kind;
    private final String name;
    private final ReaderLimits limits;
    private final byte[] buffer = new byte[BUFFER];
    private int position;
    private int end;
    private long line = 1;
    private int column = 1;
    private long records;
    private State state = State.START;

    JsonArrayReader(InputStream in, SourceRef.Kind kind, String name, ReaderLimits limits) {
        super(name);
        this.in = in;
        this.kind = kind;
        this.name = name;
        this.limits = limits;
    }

    @Override
    protected RawRecord readNext() throws IOException {
        while (true) {
            switch (state) {
                case START -> {
                    skipByteOrderMark();
                    skipWhitespace();
                    int first = peek();
                    if (first == -1) {
                        state = State.DONE;
                        return null;
                    }
                    if (first != '[') {
                        return notAList(first);
                    }
                    read1();
                    state = State.BEFORE_ELEMENT;
                }
                case BEFORE_ELEMENT -> {
                    skipWhitespace();
                    int c = peek();
                    if (c == ']') {
                        read1();
                        return afterList();
                    }
                    if (c == -1) {
                        return truncatedList();
                    }
                    return element(false);
                }
                case AFTER_ELEMENT -> {
                    skipWhitespace();
                    int c = peek();
                    if (c == ',') {
                        read1();
                        state = State.BEFORE_ELEMENT;
                    } else if (c == ']') {
                        read1();
                        return afterList();
                    } else if (c == -1) {
                        return truncatedList();
                    } else {
                        return element(true);
                    }
                }
                case DONE -> {
                    return null;
                }
            }
        }
    }

    private RawRecord notAList(int first) throws IOException {
        state = State.DONE;
        long at = line;
        Captured rest = captureRest();
        String found = first == '{' ? "an object" : "'" + (char) first + "'";
        return RawRecord.failed(
                SourceRef.inFile(kind, name, at, ++records),
                rest.head(),
                rest.size(),
                "line " + at + ": JSON file must contain a list of objects, found " + found + " at the root"
                        + (first == '{'
                                ? " (for one object per line, use JSON Lines: .jsonl or application/x-ndjson)"
                                : ""));
    }

    private RawRecord afterList() throws IOException {
        state = State.DONE;
        skipWhitespace();
        if (peek() == -1) {
            return null;
        }
        long at = line;
        Captured rest = captureRest();
        return RawRecord.failed(
                SourceRef.inFile(kind, name, at, ++records),
                rest.head(),
                rest.size(),
                "line " + at + ": unexpected content after the end of the list");
    }

    private RawRecord truncatedList() {
        state = State.DONE;
        return RawRecord.failed(
                SourceRef.inFile(kind, name, line, ++records),
                new byte[0],
                0,
                "line " + line + ": the file ends before the list is closed with ']' (truncated?)");
    }

    /** Reads one element's bytes and parses them. */
    private RawRecord element(boolean missingComma) throws IOException {
        long startLine = line;
        int startColumn = column;
        SourceRef source = SourceRef.inFile(kind, name, startLine, ++records);
        Captured element = new Captured(limits.maxRecordBytes());
        boolean complete = scanElement(element);
        byte[] payload = element.head(limits.payloadBytes());
        if (!complete) {
            state = State.DONE;
            return RawRecord.failed(
                    source,
                    payload,
                    element.size(),
                    "line " + startLine + ": record " + records
                            + " is incomplete: the file ends inside it (truncated?)");
        }
        state = State.AFTER_ELEMENT;
        if (missingComma) {
            return RawRecord.failed(
                    source,
                    payload,
                    element.size(),
                    "line " + startLine + ": invalid JSON: expected ',' or ']' before this record");
        }
        if (element.size() > limits.maxRecordBytes()) {
            return RawRecord.failed(
                    source, payload, element.size(), "line " + startLine + ": " + limits.tooLarge(element.size()));
        }
        try {
            JsonNode value = JsonText.parse(StrictUtf8.decode(element.bytes, element.kept), startLine, startColumn);
            return RawRecord.parsed(source, value, payload, element.size());
        } catch (StrictUtf8.InvalidUtf8Exception e) {
            return RawRecord.failed(source, payload, element.size(), "line " + startLine + ": " + e.getMessage());
        } catch (JsonText.RecordSyntaxException e) {
            return RawRecord.failed(source, payload, element.size(), e.getMessage());
        }
    }

    /**
     * Copies one element into {@code into}: an object or list up to its matching close, a string up to its
     * closing quote, any other scalar up to the next delimiter. Returns false when the input ends first.
     */
    private boolean scanElement(Captured into) throws IOException {
        int first = peek();
        if (first != '{' && first != '[' && first != '"') {
            int c;
            while ((c = peek()) != -1 && c != ',' && c != ']' && !isWhitespace(c)) {
                into.add((byte) read1());
            }
            return true;
        }
        int depth = 0;
        boolean inString = false;
        boolean escaped = false;
        int c;
        while ((c = read1()) != -1) {
            into.add((byte) c);
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                    if (depth == 0) {
                        return true; // a top-level string element
                    }
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private Captured captureRest() throws IOException {
        Captured rest = new Captured(limits.payloadBytes());
        int c;
        while ((c = read1()) != -1) {
            rest.add((byte) c);
        }
        return rest;
    }

    private void skipByteOrderMark() throws IOException {
        if (fill()
                && end - position >= 3
                && (buffer[position] & 0xFF) == 0xEF
                && (buffer[position + 1] & 0xFF) == 0xBB
                && (buffer[position + 2] & 0xFF) == 0xBF) {
            position += 3;
        }
    }

    private void skipWhitespace() throws IOException {
        int c;
        while ((c = peek()) != -1 && isWhitespace(c)) {
            read1();
        }
    }

    private static boolean isWhitespace(int c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    private int peek() throws IOException {
        return fill() ? buffer[position] & 0xFF : -1;
    }

    private int read1() throws IOException {
        if (!fill()) {
            return -1;
        }
        int c = buffer[position++] & 0xFF;
        if (c == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        return c;
    }

    private boolean fill() throws IOException {
        if (position < end) {
            return true;
        }
        int read = in.read(buffer, 0, buffer.length);
        position = 0;
        end = Math.max(read, 0);
        return read > 0;
    }

    /** Bytes of one element: the first {@code limit} kept, the rest only counted. */
    private static final class Captured {
        private final int limit;
        private byte[] bytes = new byte[256];
        private int kept;
        private long size;

        Captured(int limit) {
            this.limit = limit;
        }

        void add(byte b) {
            size++;
            if (kept < limit) {
                if (kept == bytes.length) {
                    bytes = Arrays.copyOf(bytes, Math.min(limit, bytes.length * 2));
                }
                bytes[kept++] = b;
            }
        }

        long size() {
            return size;
        }

        byte[] head() {
            return Arrays.copyOf(bytes, kept);
        }

        byte[] head(int max) {
            return Arrays.copyOf(bytes, Math.min(kept, max));
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
