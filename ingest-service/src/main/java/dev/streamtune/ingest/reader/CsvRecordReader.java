package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.core.JsonParser;
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
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * CSV with a header row: each later row becomes a record whose fields are named by the header. Quoted values may
 * span lines. Each row is cut from the file first ({@link CsvRowSplitter}) and then judged alone: invalid UTF-8, a
 * wrong number of values or a syntax error fails that row only, and the next row is read as usual. A row over the
 * record size limit is skipped while it is read, never held whole. A quote left open runs to the end of the file,
 * which is then one failed record, saying so.
 */
final class CsvRecordReader extends RecordReader {

    /**
     * Without a schema, Jackson exposes each row as an array of strings. Blank rows never reach it, but skipping
     * them also skips spaces before a quote at the start of a row, as this reader always has (and the splitter does).
     */
    private static final CsvMapper MAPPER =
            CsvMapper.builder().enable(CsvParser.Feature.SKIP_EMPTY_LINES).build();

    private final InputStream in;
    private final CsvRowSplitter rows;
    private final SourceRef.Kind kind;
    private final String name;
    private final ReaderLimits limits;
    private List<String> header;
    private long records;
    /** The header was refused: there is nothing to name the values of the rows by. */
    private boolean failed;

    CsvRecordReader(InputStream in, SourceRef.Kind kind, String name, ReaderLimits limits) {
        super(name);
        this.in = in;
        this.rows = new CsvRowSplitter(in, limits.maxRecordBytes());
        this.kind = kind;
        this.name = name;
        this.limits = limits;
    }

    @Override
    protected RawRecord readNext() throws IOException {
        if (failed) {
            return null;
        }
        CsvRowSplitter.Row row = rows.next();
        if (row != null && header == null) {
            RawRecord problem = readHeader(row);
            if (problem != null) {
                failed = true;
                return problem;
            }
            row = rows.next();
        }
        return row == null ? null : toRecord(row);
    }

    /** Takes the row as the header, or says why it cannot be one. */
    private RawRecord readHeader(CsvRowSplitter.Row row) {
        List<String> names;
        try {
            names = values(row);
        } catch (RowException e) {
            return failed(row, e.getMessage() + "; the header is unreadable, so no row can be read");
        }
        HashSet<String> seen = new HashSet<>();
        for (String column : names) {
            if (column.isBlank() || !seen.add(column)) {
                return failed(
                        row,
                        "line " + row.firstLine() + ": the CSV header " + names
                                + (column.isBlank()
                                        ? " has an empty column name"
                                        : " names column '" + column + "' twice")
                                + "; every column needs a unique name");
            }
        }
        header = names;
        return null;
    }

    private RawRecord toRecord(CsvRowSplitter.Row row) {
        List<String> values;
        try {
            values = values(row);
        } catch (RowException e) {
            return failed(row, e.getMessage());
        }
        SourceRef source = SourceRef.inFile(kind, name, row.firstLine(), ++records);
        ObjectNode record = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < Math.min(values.size(), header.size()); i++) {
            record.put(header.get(i), values.get(i));
        }
        byte[] bytes = record.toString().getBytes(StandardCharsets.UTF_8);
        byte[] payload = Arrays.copyOf(bytes, Math.min(bytes.length, limits.payloadBytes()));
        if (values.size() != header.size()) {
            return RawRecord.failed(
                    source,
                    payload,
                    bytes.length,
                    "line " + row.firstLine() + ": row has " + values.size() + " values but the header has "
                            + header.size() + " columns " + header);
        }
        if (bytes.length > limits.maxRecordBytes()) { // named by the header, a row within the limit can outgrow it
            return RawRecord.failed(
                    source, payload, bytes.length, "line " + row.firstLine() + ": " + limits.tooLarge(bytes.length));
        }
        return RawRecord.parsed(source, record, payload, bytes.length);
    }

    /** The row's values, decoded and parsed on their own. */
    private List<String> values(CsvRowSplitter.Row row) throws RowException {
        if (row.unclosedQuote()) {
            throw new RowException("line " + row.firstLine() + ": invalid CSV: a quoted value is not closed before"
                    + " the end of the file; the rest of the file could not be read");
        }
        if (row.oversize()) {
            throw new RowException("line " + row.firstLine() + ": " + limits.tooLarge(row.size()));
        }
        String text;
        try {
            text = StrictUtf8.decode(row.bytes(), row.kept());
        } catch (StrictUtf8.InvalidUtf8Exception e) {
            throw new RowException("line " + row.lineOf(e.offset) + ": " + e.getMessage());
        }
        try (JsonParser parser = MAPPER.getFactory().createParser(text)) {
            List<String> values = new ArrayList<>();
            if (parser.nextToken() == JsonToken.START_ARRAY) {
                JsonToken token;
                while ((token = parser.nextToken()) != JsonToken.END_ARRAY && token != null) {
                    values.add(parser.getValueAsString(""));
                }
            }
            if (parser.nextToken() != null) { // the splitter and the parser disagree on where a quote ends
                throw new RowException("line " + row.firstLine() + ": invalid CSV: a quote inside a value leaves"
                        + " unclear where the row ends; quote the whole value and double the quotes inside it");
            }
            return values;
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null
                    ? row.firstLine()
                    : row.firstLine() + e.getLocation().getLineNr() - 1;
            throw new RowException("line " + at + ": invalid CSV: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    /** A row refused before it has values, kept as its original bytes. */
    private RawRecord failed(CsvRowSplitter.Row row, String problem) {
        byte[] payload = Arrays.copyOf(row.bytes(), Math.min(row.kept(), limits.payloadBytes()));
        return RawRecord.failed(SourceRef.inFile(kind, name, row.firstLine(), ++records), payload, row.size(), problem);
    }

    private static final class RowException extends Exception {
        RowException(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
