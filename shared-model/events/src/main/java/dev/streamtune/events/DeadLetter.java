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
        Instant rejectedAt)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public DeadLetter {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(reason, "reason");
    }

    /** The key a dead letter travels under on {@code conversations-rejected}: its source, else its recipe. */
    public String key() {
        return source.describe();
    }

    /**
     * This dead letter cut to travel within a record size limit: its payload to at most {@code limit} bytes (on a
     * character boundary) and its reason to at most {@code limit} characters, with {@code note} saying so at the end
     * of the reason. {@link #payloadBytes()} keeps the original record's size.
     */
    public DeadLetter cut(int limit, String note) {
        byte[] head = payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8);
        int end = head.length > limit ? utf8Boundary(head, limit) : head.length;
        int reasonEnd = Math.min(reason.length(), Math.max(0, limit));
        if (reasonEnd > 0 && reasonEnd < reason.length() && Character.isHighSurrogate(reason.charAt(reasonEnd - 1))) {
            reasonEnd--;
        }
        String cutReason = reasonEnd < reason.length() ? reason.substring(0, reasonEnd) + "..." : reason;
        return new DeadLetter(
                schemaVersion,
                stage,
                dataset,
                source,
                cutReason + note,
                field,
                new String(head, 0, end, StandardCharsets.UTF_8),
                payloadBytes,
                payloadTruncated || end < head.length,
                recipeId,
                rejectedAt);
    }

    /**
     * Starts a dead letter from {@code stage} about the record at {@code source}; the reason is required, the rest
     * is what the stage knows: {@code DeadLetter.from("tokenize", where).recipe(id).reason("...").build()}.
     */
    public static Builder from(String stage, SourceRef source) {
        return new Builder(stage, source);
    }

    /** Names every part of a dead letter, in place of positional overloads. */
    public static final class Builder {
        /** What a dead letter keeps of the original record unless told otherwise. */
        public static final int DEFAULT_PAYLOAD_LIMIT = 4096;

        private final String stage;
        private final SourceRef source;
        private String dataset;
        private String recipeId;
        private String field;
        private String reason;
        private byte[] payload;
        private long payloadSize = -1;
        private int payloadLimit = DEFAULT_PAYLOAD_LIMIT;

        private Builder(String stage, SourceRef source) {
            this.stage = Objects.requireNonNull(stage, "stage");
            this.source = Objects.requireNonNull(source, "source");
        }

        public Builder dataset(String dataset) {
            this.dataset = dataset;
            return this;
        }

        public Builder recipe(String recipeId) {
            this.recipeId = recipeId;
            return this;
        }

        /** The offending field, when one is to blame. */
        public Builder field(String field) {
            this.field = field;
            return this;
        }

        /** What went wrong and what was expected, for a person. */
        public Builder reason(String reason) {
            this.reason = reason;
            return this;
        }

        /** The original record, kept up to the payload limit. */
        public Builder payload(byte[] payload) {
            this.payload = payload;
            return this;
        }

        /** The head of a record that whoever read it already cut; {@code originalSize} is the whole record's. */
        public Builder payloadHead(byte[] head, long originalSize) {
            this.payload = head;
            this.payloadSize = originalSize;
            return this;
        }

        public Builder payloadLimit(int limit) {
            this.payloadLimit = limit;
            return this;
        }

        public DeadLetter build() {
            byte[] bytes = payload == null ? new byte[0] : payload;
            return of(
                    stage,
                    dataset,
                    source,
                    reason,
                    field,
                    bytes,
                    payloadSize < 0 ? bytes.length : payloadSize,
                    payloadLimit,
                    recipeId);
        }
    }

    /**
     * A dead letter carrying at most {@code payloadLimit} bytes of {@code payloadHead}, itself possibly already cut
     * by whoever read it ({@code originalSize} is the whole record's). The cut falls on a character boundary so that
     * the stored text stays valid UTF-8; bytes that were not valid UTF-8 appear as U+FFFD, which is why
     * {@link #payloadBytes()} reports the original size.
     */
    private static DeadLetter of(
            String stage,
            String dataset,
            SourceRef source,
            String reason,
            String field,
            byte[] payloadHead,
            long originalSize,
            int payloadLimit,
            String recipeId) {
        byte[] head = payloadHead == null ? new byte[0] : payloadHead;
        int end = head.length > payloadLimit ? utf8Boundary(head, payloadLimit) : head.length;
        String text = new String(head, 0, end, StandardCharsets.UTF_8);
        long size = Math.max(originalSize, head.length);
        return new DeadLetter(
                SCHEMA_VERSION, stage, dataset, source, reason, field, text, size, end < size, recipeId, Instant.now());
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
