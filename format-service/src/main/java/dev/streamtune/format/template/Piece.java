package dev.streamtune.format.template;

/**
 * One piece of a rendered conversation, with the message it belongs to and what it is, so that the trainable
 * characters are known exactly, whatever the template.
 *
 * @param message index of the message in the rendered list, or -1 for text outside every message (BOS, a preamble,
 *                a generation prompt)
 */
public record Piece(String text, int message, Part part) {

    /** What a piece is within its message. */
    public enum Part {
        /** Template text before the content: role header, "### Response:\n". */
        HEADER,
        /** The message's own text. */
        CONTENT,
        /** What closes a turn and tells the model to stop: {@code <|im_end|>}, {@code <|eot_id|>}, EOS. */
        TURN_END,
        /** Template text after the turn end, or outside messages: newlines, separators, BOS, preambles. */
        FILLER
    }

    public static Piece header(int message, String text) {
        return new Piece(text, message, Part.HEADER);
    }

    public static Piece content(int message, String text) {
        return new Piece(text, message, Part.CONTENT);
    }

    public static Piece turnEnd(int message, String text) {
        return new Piece(text, message, Part.TURN_END);
    }

    public static Piece filler(int message, String text) {
        return new Piece(text, message, Part.FILLER);
    }

    public boolean isMarkup() {
        return part != Part.CONTENT;
    }
}
