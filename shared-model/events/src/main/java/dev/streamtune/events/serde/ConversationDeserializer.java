package dev.streamtune.events.serde;

import dev.streamtune.events.Conversation;

/** Kafka deserializer for {@link Conversation}, named for configuration by class. */
public class ConversationDeserializer extends EventDeserializer<Conversation> {

    public ConversationDeserializer() {
        super(Conversation.class, Conversation.SCHEMA_VERSION);
    }
}
