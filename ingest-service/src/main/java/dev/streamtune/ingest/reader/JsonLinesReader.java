package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * JSON Lines: one JSON record per line; blank lines are skipped. A malformed line is one failed record and the
 * next line is read as usual.
 */
final class JsonLinesReader extends RecordReader {

    private final InputStream in;
    private final BoundedLineReader lines;
    private final SourceRef.Kind kind;
    private final String name;
    private final ReaderLimits limits;
    private long records;

    JsonLinesReader(InputStream in, SourceRef.Kind kind, String name, ReaderLimits limits) {
        super(name);
        this.in = in;
        this.lines = new BoundedLineReader(in, limits.maxRecordBytes());
        this.kind = kind;
        this.name = name;
        this.limits = limits;
    }

    @Override
    protected RawRecord readNext() throws IOException {
        BoundedLineReader.Line line;
        do {
            line = lines.next();
        } while (line != null && line.isBlank());
        return line == null ? null : toRecord(line);
    }

    private RawRecord toRecord(BoundedLineReader.Line line) {
        SourceRef source = SourceRef.inFile(kind, name, line.number(), ++records);
        byte[] payload = Arrays.copyOf(line.bytes(), Math.min(line.kept(), limits.payloadBytes()));
        if (line.oversize()) {
            return RawRecord.failed(
                    source, payload, line.size(), "line " + line.number() + ": " + limits.tooLarge(line.size()));
        }
        try {
            String text = StrictUtf8.decode(line.bytes(), line.kept());
            JsonNode value = JsonText.parse(text, line.number());
            return RawRecord.parsed(source, value, payload, line.size());
        } catch (StrictUtf8.InvalidUtf8Exception e) {
            return RawRecord.failed(source, payload, line.size(), "line " + line.number() + ": " + e.getMessage());
        } catch (JsonText.RecordSyntaxException e) {
            return RawRecord.failed(source, payload, line.size(), e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
