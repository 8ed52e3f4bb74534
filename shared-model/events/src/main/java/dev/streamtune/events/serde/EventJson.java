package dev.streamtune.events.serde;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON configuration of the event contracts: ISO-8601 instants, unknown fields tolerated (a newer
 * producer may add fields within a schema version), nulls omitted.
 *
 * <p>Every record a stage consumes and every record ingestion reads from a dataset is parsed here, so the limits
 * on what one record may hold are set here, explicitly rather than left to Jackson's defaults (which have moved
 * between releases): past a limit, reading fails with a reason that names it, which a stage dead-letters.
 */
public final class EventJson {

    /**
     * How deeply a record may nest (Jackson's default since 2.15, stated so that an upgrade cannot move it). Events
     * are a few levels deep; only the free-form metadata a dataset brings goes deeper. Past this, a record is
     * refused with a reason before anything walks its tree recursively towards a stack overflow.
     */
    public static final int MAX_NESTING_DEPTH = 1000;

    /**
     * How many characters one number may have. Reading a number takes time that grows faster than its length;
     * no field holds more than a long's 19 digits or a double's 17 (Jackson's default).
     */
    public static final int MAX_NUMBER_LENGTH = 1000;

    /**
     * How many characters one string may have (Jackson's default since 2.16; 2.15 had a quarter of it): above the 16
     * MiB a producer sends at most (KafkaSettings), so no record a stage wrote is refused by the next.
     */
    public static final int MAX_STRING_LENGTH = 20_000_000;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING_DEPTH)
                            .maxNumberLength(MAX_NUMBER_LENGTH)
                            .maxStringLength(MAX_STRING_LENGTH)
                            .build())
                    .build())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    private EventJson() {}

    /** The shared mapper. Thread-safe; do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
