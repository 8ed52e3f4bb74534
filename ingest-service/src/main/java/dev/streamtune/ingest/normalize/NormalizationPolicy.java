package dev.streamtune.ingest.normalize;

import java.util.Locale;

/**
 * How strictly conversations are shaped.
 *
 * @param requireAssistantLast SFT trains on the final assistant turn: reject conversations that end otherwise
 * @param sameRole             what to do with consecutive turns from the same speaker
 */
public record NormalizationPolicy(boolean requireAssistantLast, SameRole sameRole) {

    public static final NormalizationPolicy DEFAULT = new NormalizationPolicy(true, SameRole.REJECT);

    public enum SameRole {
        /** Reject the conversation, naming the turns. */
        REJECT,
        /** Join the turns with a blank line. */
        MERGE;

        public static SameRole parse(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "reject" -> REJECT;
                case "merge" -> MERGE;
                default -> throw new IllegalArgumentException("sameRole '" + value + "': expected reject or merge");
            };
        }
    }
}
