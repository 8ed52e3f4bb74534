package dev.streamtune.format.template;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * The plain-text dialogue format ({@code chat}): an optional system line, then {@code Human: ...} and
 * {@code Assistant: ...} lines. Each assistant turn ends with the tokenizer's EOS, which is trained: without it a
 * model trained on this format never learns to stop.
 */
public final class HumanAssistantTemplate implements ChatTemplate {

    private final String eos;

    /** @param eos the tokenizer's end-of-sequence text, e.g. {@code </s>} or {@code <|endoftext|>} */
    public HumanAssistantTemplate(String eos) {
        this.eos = RequireEos.of(eos, "chat");
    }

    @Override
    public String name() {
        return "chat";
    }

    @Override
    public List<Piece> render(List<Message> messages) {
        List<Piece> pieces = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            Message message = messages.get(i);
            switch (message.role()) {
                case SYSTEM -> {
                    pieces.add(Piece.content(i, message.content()));
                    pieces.add(Piece.filler(i, "\n\n"));
                }
                case USER -> {
                    pieces.add(Piece.header(i, "Human: "));
                    pieces.add(Piece.content(i, message.content()));
                    pieces.add(Piece.filler(i, "\n"));
                }
                case ASSISTANT -> {
                    pieces.add(Piece.header(i, "Assistant: "));
                    pieces.add(Piece.content(i, message.content()));
                    pieces.add(Piece.turnEnd(i, eos));
                    pieces.add(Piece.filler(i, "\n"));
                }
                case TOOL ->
                    throw new TemplateException("message " + i + " has role tool, which the chat template"
                            + " (Human:/Assistant:) cannot express; use chatml, llama3 or the model's jinja template");
            }
        }
        return pieces;
    }

    /** The role of message i, for templates that only take user and assistant turns. */
    static void requireRole(Message message, int index, Role expected, String template) {
        if (message.role() != expected) {
            throw new TemplateException(
                    "message " + index + " has role " + message.role().wireName() + " where the " + template
                            + " template expects " + expected.wireName());
        }
    }
}
