package dev.streamtune.ingest.pipeline;

import java.util.Locale;

/** What became of one record. Every record read has exactly one outcome. */
public enum Outcome {
    /** Published to {@code conversations}. */
    PUBLISHED,
    /** Dead-lettered to {@code conversations-rejected} with a reason. */
    REJECTED,
    /** The same conversation (or a near duplicate) was already published. */
    DUPLICATE,
    /** Well-formed but not taken: filtered out, or beyond a split's size cap. */
    UNUSED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
