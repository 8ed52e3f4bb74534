package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Conversation;

/**
 * A conversation that passed parsing, normalisation and filters, waiting for deduplication and its split. The
 * prototype's split is a placeholder until {@link Conversation#withSplit} assigns the real one.
 */
public record Candidate(Conversation prototype) {

    public String id() {
        return prototype.id();
    }
}
