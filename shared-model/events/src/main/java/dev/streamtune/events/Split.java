package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The data split a conversation belongs to, fixed at ingestion from its id and the dataset's seed. */
public enum Split {
    TRAIN,
    VALID,
    TEST;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Split fromWireName(String value) {
        for (Split split : values()) {
            if (split.wireName().equals(value)) {
                return split;
            }
        }
        throw new IllegalArgumentException("unknown split '" + value + "', expected one of train, valid, test");
    }
}
