package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The speaker of a message after normalisation; every input dialect's roles map onto these four. */
public enum Role {
    SYSTEM,
    USER,
    ASSISTANT,
    TOOL;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role fromWireName(String value) {
        for (Role role : values()) {
            if (role.wireName().equals(value)) {
                return role;
            }
        }
        throw new IllegalArgumentException(
                "unknown role '" + value + "', expected one of system, user, assistant, tool");
    }
}
