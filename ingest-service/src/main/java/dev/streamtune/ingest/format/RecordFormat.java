package dev.streamtune.ingest.format;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The record dialects ingestion reads. The wire name is what users pass as {@code format=...}. */
public enum RecordFormat {
    SHAREGPT("sharegpt"),
    OPENAI("openai"),
    ALPACA("alpaca"),
    DOLLY("dolly"),
    OASST("oasst"),
    PROMPT_RESPONSE("prompt-response"),
    TEXT("text");

    private final String wireName;

    RecordFormat(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** Parses a format name; "auto", blank or null mean detect per record and return null. */
    public static RecordFormat parse(String name) {
        if (name == null || name.isBlank() || name.equalsIgnoreCase("auto")) {
            return null;
        }
        String normalised = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (normalised.equals("messages")) {
            return OPENAI;
        }
        for (RecordFormat format : values()) {
            if (format.wireName.equals(normalised)) {
                return format;
            }
        }
        throw new IllegalArgumentException("unknown format '" + name + "'; expected " + known());
    }

    /** The names a format may be given: "auto or one of sharegpt, openai, ...". */
    public static String known() {
        return "auto or one of "
                + Arrays.stream(values()).map(RecordFormat::wireName).collect(Collectors.joining(", "));
    }
}
