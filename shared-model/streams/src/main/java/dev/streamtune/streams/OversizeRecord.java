package dev.streamtune.streams;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A record too large for Kafka: which one, its size as the producer counts it against {@code max.request.size}, the
 * limit, and, when the broker refused it rather than the size check before sending, what the broker said.
 */
public record OversizeRecord(Outgoing record, long size, int limit, String refusal) {

    /**
     * What the producer adds to a record's key and value when it checks {@code max.request.size}: the header of the
     * batch it travels in (61 bytes) and the largest record header (21 bytes).
     */
    static final int ENVELOPE_BYTES = 61 + 21;

    /** The size of {@code record} written as {@code value}, as the producer's size check counts it. */
    public static long size(Outgoing record, byte[] value) {
        long key = record.key() == null ? 0 : record.key().getBytes(StandardCharsets.UTF_8).length;
        return ENVELOPE_BYTES + key + (value == null ? 0 : value.length);
    }

    /** The reason a person reads: the record, its size and the limit it exceeds, and the settings that set it. */
    public String describe() {
        String what = "record for " + record.topic() + (record.key() == null ? "" : " (key " + record.key() + ")")
                + " of " + bytes(size) + " bytes";
        if (refusal == null) {
            return what + " exceeds the maximum record size of " + bytes(limit)
                    + " bytes (max.request.size / max.message.bytes)";
        }
        return what + " was refused by Kafka as too large: the topic's max.message.bytes (or the broker's"
                + " message.max.bytes) is below the producers' max.request.size of " + bytes(limit) + " bytes ("
                + refusal + ")";
    }

    static String bytes(long count) {
        return String.format(Locale.ROOT, "%,d", count);
    }
}
