package dev.streamtune.format.template;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.InstructionParts;
import dev.streamtune.events.Message;
import dev.streamtune.events.Split;
import java.util.List;

/** Conversations the template tests share. */
final class Conversations {

    private Conversations() {}

    static final List<Message> TWO_TURNS = List.of(
            Message.system("You are terse."),
            Message.user("Hi there"),
            Message.assistant("Hello!"),
            Message.user("What is 2+2?"),
            Message.assistant("4"));

    static Conversation of(List<Message> messages) {
        return new Conversation(
                Conversation.SCHEMA_VERSION, "c1", "demo", null, Split.TRAIN, messages, null, "sharegpt", null, null);
    }

    static Conversation instruction(String instruction, String input, String output) {
        String user = input == null ? instruction : instruction + "\n\n" + input;
        return new Conversation(
                Conversation.SCHEMA_VERSION,
                "c2",
                "alpaca",
                null,
                Split.TRAIN,
                List.of(Message.user(user), Message.assistant(output)),
                null,
                "alpaca",
                new InstructionParts(instruction, input),
                null);
    }
}
