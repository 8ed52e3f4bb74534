package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Objects;

/**
 * A conversation rendered for one recipe, on {@code examples} keyed by {@link #key()}. The segments, joined,
 * are exactly the rendered text; the trainable ones are what the loss is computed on.
 *
 * @param referenceResponse the final assistant turn's content, kept for evaluation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FormattedExample(
        int schemaVersion,
        String recipeId,
        String conversationId,
        String dataset,
        Split split,
        String template,
        List<Segment> segments,
        String referenceResponse,
        SourceRef source)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public FormattedExample {
        Objects.requireNonNull(recipeId, "recipeId");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(split, "split");
        segments = List.copyOf(Objects.requireNonNull(segments, "segments"));
    }

    public static String key(String recipeId, String conversationId) {
        return recipeId + ":" + conversationId;
    }

    @JsonIgnore
    public String key() {
        return key(recipeId, conversationId);
    }

    /** The full rendered text: the segments joined. */
    @JsonIgnore
    public String text() {
        StringBuilder text = new StringBuilder();
        segments.forEach(segment -> text.append(segment.text()));
        return text.toString();
    }
}
