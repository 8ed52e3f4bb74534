package dev.streamtune.tokenize.example;

import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Segment;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import java.util.Arrays;

/**
 * Tokenizes a formatted example segment by segment: markup through the tokenizer's markup encoding (special-token
 * strings become their ids), content through its plain encoding (they stay text); labels follow each segment's
 * trainable flag, except the first token's, which nothing predicts (so trained-token counts are exactly the loss's
 * targets). BOS is prepended when the tokenizer has one and the template did not already write it (Llama 3's
 * template starts with {@code <|begin_of_text|>}; GPT-2 has none); EOS is the template's business (its turn end).
 */
public final class ExampleTokenizer {

    private final TextTokenizer tokenizer;

    public ExampleTokenizer(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public TokenizedExample tokenize(FormattedExample example) {
        int capacity = 16;
        int[] ids = new int[capacity];
        int[] labels = new int[capacity];
        int length = 0;
        int lastSpanStart = -1;
        boolean previousTrainable = false;
        for (Segment segment : example.segments()) {
            int[] tokens = segment.markup() ? tokenizer.encodeMarkup(segment.text()) : tokenizer.encode(segment.text());
            if (length + tokens.length > ids.length) {
                int grown = Math.max(ids.length * 2, length + tokens.length);
                ids = Arrays.copyOf(ids, grown);
                labels = Arrays.copyOf(labels, grown);
            }
            if (segment.trainable() && !previousTrainable && tokens.length > 0) {
                lastSpanStart = length;
            }
            for (int token : tokens) {
                ids[length] = token;
                labels[length] = segment.trainable() ? token : PackedSequence.IGNORE_INDEX;
                length++;
            }
            if (tokens.length > 0) {
                previousTrainable = segment.trainable();
            }
        }
        int[] allIds = Arrays.copyOf(ids, length);
        int[] allLabels = Arrays.copyOf(labels, length);
        if (tokenizer.bos().isPresent()
                && (length == 0 || allIds[0] != tokenizer.bos().getAsInt())) {
            int bos = tokenizer.bos().getAsInt();
            allIds = prepend(bos, allIds);
            allLabels = prepend(PackedSequence.IGNORE_INDEX, allLabels);
            lastSpanStart = lastSpanStart < 0 ? -1 : lastSpanStart + 1;
        }
        if (allLabels.length > 0) {
            allLabels[0] = PackedSequence.IGNORE_INDEX; // nothing precedes the first token to predict it from
        }
        return new TokenizedExample(
                example.key(),
                example.conversationId(),
                example.dataset(),
                example.split(),
                allIds,
                allLabels,
                TokenizedExample.countTrainable(allLabels),
                Math.max(0, lastSpanStart),
                example.referenceResponse());
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
