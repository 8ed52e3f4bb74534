package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import java.util.Arrays;

/** Reads a record that arrives on its own (a Kafka message) with the same checks as a line of a file. */
public final class RawRecords {

    private RawRecords() {}

    public static RawRecord fromMessage(byte[] value, SourceRef source, ReaderLimits limits) {
        String where = "partition " + source.partition() + " offset " + source.offset();
        if (value == null) {
            return RawRecord.failed(source, new byte[0], 0, where + ": empty message (null value)");
        }
        byte[] payload = Arrays.copyOf(value, Math.min(value.length, limits.payloadBytes()));
        if (value.length > limits.maxRecordBytes()) {
            return RawRecord.failed(source, payload, value.length, where + ": " + limits.tooLarge(value.length));
        }
        try {
            String text = StrictUtf8.decode(value, value.length);
            JsonNode node = JsonText.parse(text, 1);
            return RawRecord.parsed(source, node, payload, value.length);
        } catch (StrictUtf8.InvalidUtf8Exception e) {
            return RawRecord.failed(source, payload, value.length, where + ": " + e.getMessage());
        } catch (JsonText.RecordSyntaxException e) {
            return RawRecord.failed(source, payload, value.length, where + ", " + e.getMessage());
        }
    }
}
