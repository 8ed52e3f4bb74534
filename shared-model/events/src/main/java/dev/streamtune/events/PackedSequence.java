package dev.streamtune.events;

import java.util.List;
import java.util.Objects;

/**
 * One row of a training batch: several documents packed end to end, then padding. The trainer builds a
 * block-diagonal causal mask from {@code documentStarts} so that no token attends across documents, and feeds
 * {@code positionIds}, which restart at 0 for every document.
 *
 * @param inputIds       token ids, padded to the batch's sequence length
 * @param labels         the target id where the token is trained, -100 where it is not (prompt, padding)
 * @param positionIds    per-document positions
 * @param documentStarts index of the first token of each document, ascending, first one 0
 * @param length         tokens before padding
 * @param trainableTokens number of labels that are not -100
 */
public record PackedSequence(
        TokenIds inputIds,
        TokenIds labels,
        TokenIds positionIds,
        List<Integer> documentStarts,
        int length,
        int trainableTokens) {

    /** The label value that the loss ignores, as in PyTorch's cross-entropy {@code ignore_index}. */
    public static final int IGNORE_INDEX = -100;

    public PackedSequence {
        TokenIds.requireSameLength(inputIds, labels, "inputIds/labels");
        TokenIds.requireSameLength(inputIds, positionIds, "inputIds/positionIds");
        documentStarts = List.copyOf(Objects.requireNonNull(documentStarts, "documentStarts"));
        if (length < 0 || length > inputIds.length()) {
            throw new IllegalArgumentException("length " + length + " outside 0.." + inputIds.length());
        }
    }
}
