package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a record came from, precise enough for a person to find it: a file (or upload) and line, or a topic,
 * partition and offset. {@code record} counts records within a file from 1, which locates an element of a JSON
 * array or a Parquet row where a line number alone would not.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SourceRef(Kind kind, String name, Long line, Long record, Integer partition, Long offset) {

    public enum Kind {
        /** A body posted to the REST upload endpoint; name is the upload's source label. */
        UPLOAD,
        /** A file read by a server-side import; name is the path relative to the import root. */
        FILE,
        /** A Kafka record; name is the topic. */
        TOPIC;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Kind fromWireName(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    public SourceRef {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
    }

    public static SourceRef inFile(Kind kind, String name, long line, long record) {
        return new SourceRef(kind, name, line > 0 ? line : null, record > 0 ? record : null, null, null);
    }

    public static SourceRef inTopic(String topic, int partition, long offset) {
        return new SourceRef(Kind.TOPIC, topic, null, null, partition, offset);
    }

    /** A short human form, also used as the dead-letter key: {@code alpaca.json:5#3} or {@code conversations-raw-0@17}. */
    public String describe() {
        if (kind == Kind.TOPIC) {
            return name + "-" + partition + "@" + offset;
        }
        StringBuilder text = new StringBuilder(name);
        if (line != null) {
            text.append(':').append(line);
        }
        if (record != null) {
            text.append('#').append(record);
        }
        return text.toString();
    }
}
