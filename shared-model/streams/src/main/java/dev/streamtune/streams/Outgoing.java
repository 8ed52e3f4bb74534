package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Event;
import dev.streamtune.events.Topics;
import java.util.Objects;

/** A record to publish: an event for a topic under a key (a null event is a tombstone). */
public record Outgoing(String topic, String key, Event event) {

    public Outgoing {
        Objects.requireNonNull(topic, "topic");
    }

    /** A dead letter on {@code conversations-rejected}, keyed by its source. */
    public static Outgoing deadLetter(DeadLetter letter) {
        return new Outgoing(Topics.CONVERSATIONS_REJECTED, letter.key(), letter);
    }
}
