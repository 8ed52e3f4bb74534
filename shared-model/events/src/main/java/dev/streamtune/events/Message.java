package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * One turn of a conversation. Content is kept exactly as given: whitespace is meaningful to a chat template.
 *
 * @param weight OpenAI's per-turn fine-tuning weight: 0 marks a turn not to be trained on (it stays in the
 *               conversation as context); null is the default weight, 1, and a weight of 1 is read as null, so that
 *               a turn written either way is the same turn (and a conversation keeps its content id). Written only
 *               when 0, so conversations without weights read and write as they did before the field existed.
 */
public record Message(
        Role role,
        String content,
        @JsonInclude(JsonInclude.Include.NON_NULL) Integer weight) {

    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (weight != null && weight != 0 && weight != 1) {
            throw new IllegalArgumentException("weight " + weight + ": expected 0 or 1");
        }
        if (weight != null && weight == 1) {
            weight = null;
        }
    }

    /** A turn of the default weight. */
    public Message(Role role, String content) {
        this(role, content, null);
    }

    public static Message system(String content) {
        return new Message(Role.SYSTEM, content);
    }

    public static Message user(String content) {
        return new Message(Role.USER, content);
    }

    public static Message assistant(String content) {
        return new Message(Role.ASSISTANT, content);
    }

    /** Whether the turn is marked not to be trained on (weight 0), whatever a recipe trains. */
    public boolean untrained() {
        return weight != null && weight == 0;
    }
}
