package dev.streamtune.ingest.format;

import java.util.Locale;

/**
 * How records are read: a forced format (null = detect per record), field and role renames, and which OASST
 * paths become conversations.
 */
public record FormatOptions(RecordFormat forced, FieldMapping mapping, RoleNames roles, OasstPaths oasstPaths) {

    public static final FormatOptions DEFAULTS =
            new FormatOptions(null, FieldMapping.NONE, RoleNames.DEFAULT, OasstPaths.BEST);

    /** Which root-to-leaf paths of an OASST message tree become conversations. */
    public enum OasstPaths {
        /** Follow the best-ranked reply at every turn: one conversation per tree. */
        BEST,
        /** Every path from the prompt to a leaf (cut to end on an assistant turn), without repeats. */
        ALL;

        public static OasstPaths parse(String value) {
            if (value == null || value.isBlank()) {
                return BEST;
            }
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "best" -> BEST;
                case "all" -> ALL;
                default -> throw new IllegalArgumentException("oasstPaths '" + value + "': expected best or all");
            };
        }
    }
}
