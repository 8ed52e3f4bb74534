package dev.streamtune.format.template;

import dev.streamtune.events.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * ChatML, as the JoLA and Jojo seeds and the Qwen family write it:
 * {@code <|im_start|>role\ncontent<|im_end|>\n} per message. An assistant turn trains its content and its
 * {@code <|im_end|>}; the newline after it is the separator before the next turn.
 */
public final class ChatMlTemplate implements ChatTemplate {

    public static final String START = "<|im_start|>";
    public static final String END = "<|im_end|>";

    @Override
    public String name() {
        return "chatml";
    }

    @Override
    public List<Piece> render(List<Message> messages) {
        List<Piece> pieces = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            Message message = messages.get(i);
            pieces.add(Piece.header(i, START + message.role().wireName() + "\n"));
            pieces.add(Piece.content(i, message.content()));
            pieces.add(Piece.turnEnd(i, END));
            pieces.add(Piece.filler(i, "\n"));
        }
        return pieces;
    }
}
