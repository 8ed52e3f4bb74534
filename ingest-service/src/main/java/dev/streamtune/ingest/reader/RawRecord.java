package dev.streamtune.ingest.reader;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.serde.EventJson;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One record as read from a container, before it is understood: its parsed JSON value, or the problem that kept it
 * from being parsed. The original bytes are kept for dead letters (cut at the payload limit, with the full size).
 */
public record RawRecord(SourceRef source, JsonNode value, byte[] payload, long payloadSize, String problem) {

    public static RawRecord parsed(SourceRef source, JsonNode value, byte[] payload, long payloadSize) {
        return new RawRecord(source, value, payload, payloadSize, null);
    }

    public static RawRecord failed(SourceRef source, byte[] payload, long payloadSize, String problem) {
        return new RawRecord(source, null, payload, payloadSize, problem);
    }

    public boolean isParsed() {
        return problem == null;
    }

    /** The bytes to show in a dead letter: the original ones when kept, else the parsed value re-written. */
    public byte[] payloadBytes() {
        if (payload != null) {
            return payload;
        }
        try {
            return value == null ? new byte[0] : EventJson.mapper().writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
