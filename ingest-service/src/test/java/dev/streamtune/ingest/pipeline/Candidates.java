package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Message;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.normalize.ConversationId;
import java.time.Instant;
import java.util.List;

/** Candidates as record understanding makes them, for the tests of the later steps. */
final class Candidates {

    private Candidates() {}

    static Candidate of(String question, String answer) {
        List<Message> messages = List.of(Message.user(question), Message.assistant(answer));
        return new Candidate(new Conversation(
                Conversation.SCHEMA_VERSION,
                ConversationId.of(messages),
                "ds",
                SourceRef.inFile(SourceRef.Kind.UPLOAD, "chats.jsonl", 1, 1),
                Split.TRAIN,
                messages,
                null,
                "alpaca",
                null,
                Instant.now()));
    }
}
