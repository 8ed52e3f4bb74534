package dev.streamtune.tokenize.example;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Split;

/**
 * A formatted example as tokens: {@code labels[i]} is {@code ids[i]} where the token is trained and -100 where it
 * is not (the loss predicts label i+1 from position i, as Hugging Face does).
 *
 * @param promptTokens tokens before the first trained token of the last trained span: where generation starts
 *                     when the example is evaluated
 */
public record TokenizedExample(
        String key,
        String conversationId,
        String dataset,
        Split split,
        int[] ids,
        int[] labels,
        int trainableTokens,
        int promptTokens,
        String referenceResponse) {

    public TokenizedExample {
        if (ids.length != labels.length) {
            throw new IllegalArgumentException(
                    "ids and labels differ in length: " + ids.length + " vs " + labels.length);
        }
    }

    public int length() {
        return ids.length;
    }

    static int countTrainable(int[] labels) {
        int count = 0;
        for (int label : labels) {
            if (label != PackedSequence.IGNORE_INDEX) {
                count++;
            }
        }
        return count;
    }
}
