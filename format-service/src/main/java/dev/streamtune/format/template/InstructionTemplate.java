package dev.streamtune.format.template;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * The Alpaca instruction format (Stanford Alpaca; the JoLA authors' {@code instruction} format):
 *
 * <pre>
 * Below is an instruction that describes a task. Write a response that appropriately completes the request.
 *
 * ### Instruction:
 * {instruction}
 *
 * ### Input:            (only when the record has an input, with Alpaca's "paired with an input" preamble)
 * {input}
 *
 * ### Response:
 * {response}{EOS}
 * </pre>
 *
 * A system prompt replaces the preamble. Several user/assistant pairs repeat the Instruction/Response blocks. The
 * response and its EOS are trained.
 */
public final class InstructionTemplate implements ChatTemplate {

    /** Alpaca's preamble for instructions without input; the JoLA authors use it verbatim. */
    public static final String PREAMBLE = "Below is an instruction that describes a task. Write a response that"
            + " appropriately completes the request.";
    /** Alpaca's preamble for instructions with an input. */
    public static final String PREAMBLE_WITH_INPUT = "Below is an instruction that describes a task, paired with an"
            + " input that provides further context. Write a response that appropriately completes the request.";

    private final String eos;

    public InstructionTemplate(String eos) {
        this.eos = RequireEos.of(eos, "instruction");
    }

    @Override
    public String name() {
        return "instruction";
    }

    /** Renders without a separate input; see {@link #render(List, String, String)}. */
    @Override
    public List<Piece> render(List<Message> messages) {
        return render(messages, null, null);
    }

    /**
     * @param instruction, input the first user turn's instruction and input kept apart (Alpaca, Dolly records), or
     *                     null to use the user message as the instruction
     */
    public List<Piece> render(List<Message> messages, String instruction, String input) {
        List<Piece> pieces = new ArrayList<>();
        int first = 0;
        boolean hasInput = input != null && !input.isEmpty();
        if (!messages.isEmpty() && messages.get(0).role() == Role.SYSTEM) {
            pieces.add(Piece.content(0, messages.get(0).content()));
            first = 1;
        } else {
            pieces.add(Piece.filler(-1, hasInput ? PREAMBLE_WITH_INPUT : PREAMBLE));
        }
        pieces.add(Piece.filler(-1, "\n\n"));
        for (int i = first; i < messages.size(); i++) {
            Message message = messages.get(i);
            boolean user = (i - first) % 2 == 0;
            HumanAssistantTemplate.requireRole(message, i, user ? Role.USER : Role.ASSISTANT, "instruction");
            if (user) {
                boolean split = i == first && instruction != null;
                pieces.add(Piece.header(i, (i == first ? "" : "\n\n") + "### Instruction:\n"));
                pieces.add(Piece.content(i, split ? instruction : message.content()));
                if (split && hasInput) {
                    pieces.add(Piece.header(i, "\n\n### Input:\n"));
                    pieces.add(Piece.content(i, input));
                }
                pieces.add(Piece.filler(i, "\n\n"));
            } else {
                pieces.add(Piece.header(i, "### Response:\n"));
                pieces.add(Piece.content(i, message.content()));
                pieces.add(Piece.turnEnd(i, eos));
            }
        }
        return pieces;
    }
}
