package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;

/**
 * A record a stage could not use, on {@code conversations-rejected}, keyed by {@link SourceRef#describe()}.
 * The reason is written for a person: which file, which line or offset, which field, what was expected.
 *
 * @param stage            the stage that rejected it (ingest, format, tokenize...)
 * @param field            the offending field when one is to blame, else null
 * @param payload          the original record as text, cut at a size limit
 * @param payloadBytes     the size of the original record in bytes, whether or not it was cut
 * @param payloadTruncated whether {@code payload} was cut
 * @param recipeId         the recipe the record was being prepared for, for stages past ingestion
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DeadLetter(
        int schemaVersion,
        String stage,
        String dataset,
        SourceRef source,
        String reason,
        String field,
        String payload,
        long payloadBytes,
        boolean payloadTruncated,
        String recipeId,
        Instant rejectedAt) implements Event {

    public static final int SCHEMA_VERSION = 1;

    public DeadLetter {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * A dead letter carrying at most {@code payloadLimit} bytes of the original payload. The cut falls on a
     * character boundary so that the stored text stays valid UTF-8; bytes that were not valid UTF-8 appear as
     * U+FFFD, which is why {@link #payloadBytes()} reports the original size.
     */
    public static DeadLetter of(String stage, String dataset, SourceRef source, String reason, String field,
                                byte[] payload, int payloadLimit, String recipeId) {
        byte[] original = payload == null ? new byte[0] : payload;
        return of(stage, dataset, source, reason, field, original, original.length, payloadLimit, recipeId);
    }

    /**
     * The same, for a payload that was already cut by whoever read it: {@code originalSize} is the size of the
     * whole record.
     */
    public static DeadLetter of(String stage, String dataset, SourceRef source, String reason, String field,
                                byte[] payloadHead, long originalSize, int payloadLimit, String recipeId) {
        byte[] head = payloadHead == null ? new byte[0] : payloadHead;
        int end = head.length > payloadLimit ? utf8Boundary(head, payloadLimit) : head.length;
        String text = new String(head, 0, end, StandardCharsets.UTF_8);
        long size = Math.max(originalSize, head.length);
        return new DeadLetter(SCHEMA_VERSION, stage, dataset, source, reason, field, text, size, end < size, recipeId,
                Instant.now());
    }

    /** The largest index no greater than {@code limit} that does not split a UTF-8 sequence. */
    private static int utf8Boundary(byte[] bytes, int limit) {
        int end = Math.max(0, limit);
        while (end > 0 && end < bytes.length && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return end;
    }
}
