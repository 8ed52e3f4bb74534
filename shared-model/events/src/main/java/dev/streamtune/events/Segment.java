package dev.streamtune.events;

import java.util.Objects;

/**
 * A piece of rendered text and whether the model is trained to produce it.
 *
 * @param markup true for the template's own text (role headers, turn ends, BOS/EOS): there, special-token text
 *               becomes special tokens. False for message content, where text that merely looks like a special
 *               token stays plain text, so user data cannot inject control tokens.
 */
public record Segment(String text, boolean trainable, boolean markup) {

    public Segment {
        Objects.requireNonNull(text, "text");
    }

    /** Message content (not markup). */
    public Segment(String text, boolean trainable) {
        this(text, trainable, false);
    }
}
