package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import dev.streamtune.events.SourceRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * CSV with a header row: each later row becomes a record whose fields are named by the header. Quoted values may
 * span lines. A row with the wrong number of values is one failed record; a syntax error the parser cannot recover
 * from (an unclosed quote) fails the rest of the file as one record, saying so.
 */
final class CsvRecordReader extends RecordReader {

    /** Without a schema, Jackson exposes each row as an array of strings: the header is read as the first row. */
    private static final CsvMapper MAPPER = CsvMapper.builder()
            .enable(CsvParser.Feature.SKIP_EMPTY_LINES)
            .build();

    private final CheckedUtf8Reader text;
    private final CsvParser parser;
    private final SourceRef.Kind kind;
    private final String name;
    private final ReaderLimits limits;
    private List<String> header;
    private long records;
    /** After an unrecoverable syntax error the rest of the file was reported as one record. */
    private boolean failed;

    CsvRecordReader(InputStream in, SourceRef.Kind kind, String name, ReaderLimits limits) throws IOException {
        super(name);
        this.text = new CheckedUtf8Reader(in);
        this.parser = (CsvParser) MAPPER.getFactory().createParser(text);
        this.kind = kind;
        this.name = name;
        this.limits = limits;
    }



    @Override
    protected RawRecord readNext() throws IOException {
        if (failed) {
            return null;
        }
        long startLine = parser.currentLocation().getLineNr();
        try {
            if (header == null) {
                List<String> names = row();
                if (names == null) {
                    return null;
                }
                RawRecord problem = checkHeader(names, startLine);
                if (problem != null) {
                    failed = true;
                    return problem;
                }
                header = names;
                startLine = parser.currentLocation().getLineNr();
            }
            List<String> values = row();
            if (values == null) {
                return null;
            }
            long endLine = parser.currentLocation().getLineNr();
            return toRecord(values, Math.max(startLine, 1), endLine);
        } catch (JsonProcessingException e) {
            failed = true;
            long at = e.getLocation() == null ? startLine : e.getLocation().getLineNr();
            return RawRecord.failed(SourceRef.inFile(kind, name, at, ++records), new byte[0], 0, "line " + at
                    + ": invalid CSV: " + e.getOriginalMessage() + "; the rest of the file could not be read");
        }
    }

    /** The next row's values, or null at the end. */
    private List<String> row() throws IOException {
        JsonToken token = parser.nextToken();
        if (token == null) {
            return null;
        }
        if (token != JsonToken.START_ARRAY) {
            throw new IllegalStateException("CSV parser produced " + token + " where a row starts");
        }
        List<String> values = new ArrayList<>();
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY && token != null) {
            values.add(parser.getValueAsString(""));
        }
        return values;
    }

    private RawRecord checkHeader(List<String> names, long line) {
        HashSet<String> seen = new HashSet<>();
        for (String column : names) {
            if (column.isBlank() || !seen.add(column)) {
                return RawRecord.failed(SourceRef.inFile(kind, name, line, ++records), new byte[0], 0, "line " + line
                        + ": the CSV header " + names + (column.isBlank() ? " has an empty column name" : " names column '"
                        + column + "' twice") + "; every column needs a unique name");
            }
        }
        return null;
    }

    private RawRecord toRecord(List<String> values, long startLine, long endLine) {
        SourceRef source = SourceRef.inFile(kind, name, startLine, ++records);
        ObjectNode record = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < Math.min(values.size(), header.size()); i++) {
            record.put(header.get(i), values.get(i));
        }
        byte[] bytes = record.toString().getBytes(StandardCharsets.UTF_8);
        byte[] payload = java.util.Arrays.copyOf(bytes, Math.min(bytes.length, limits.payloadBytes()));
        if (text.invalidBetween(startLine, endLine)) {
            return RawRecord.failed(source, payload, bytes.length, "line " + text.firstInvalidLine(startLine)
                    + ": invalid UTF-8; the file must be UTF-8");
        }
        if (values.size() != header.size()) {
            return RawRecord.failed(source, payload, bytes.length, "line " + startLine + ": row has " + values.size()
                    + " values but the header has " + header.size() + " columns " + header);
        }
        if (bytes.length > limits.maxRecordBytes()) {
            return RawRecord.failed(source, payload, bytes.length, "line " + startLine + ": " + limits.tooLarge(bytes.length));
        }
        return RawRecord.parsed(source, record, payload, bytes.length);
    }

    @Override
    public void close() throws IOException {
        parser.close();
        text.close();
    }
}
