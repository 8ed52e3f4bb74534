package dev.streamtune.format.template;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * Meta Llama 3's chat format: {@code <|begin_of_text|>}, then per message
 * {@code <|start_header_id|>role<|end_header_id|>\n\n} + content (trimmed, as Meta's template does) +
 * {@code <|eot_id|>}. Tool results use Llama 3.1's {@code ipython} role. An assistant turn trains its content and
 * its {@code <|eot_id|>}.
 */
public final class Llama3Template implements ChatTemplate {

    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String END_OF_TURN = "<|eot_id|>";

    @Override
    public String name() {
        return "llama3";
    }

    @Override
    public List<Piece> render(List<Message> messages) {
        List<Piece> pieces = new ArrayList<>();
        pieces.add(Piece.filler(-1, BEGIN_OF_TEXT));
        for (int i = 0; i < messages.size(); i++) {
            Message message = messages.get(i);
            String role =
                    message.role() == Role.TOOL ? "ipython" : message.role().wireName();
            pieces.add(Piece.header(i, "<|start_header_id|>" + role + "<|end_header_id|>\n\n"));
            pieces.add(Piece.content(i, message.content().strip()));
            pieces.add(Piece.turnEnd(i, END_OF_TURN));
        }
        return pieces;
    }
}
