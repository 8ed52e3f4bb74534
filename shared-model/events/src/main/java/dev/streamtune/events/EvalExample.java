package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * A validation or test example for the evaluator, on {@code eval-examples}, unpacked.
 *
 * @param promptTokens the number of leading tokens that form the prompt of the final assistant turn: generation
 *                     starts from {@code inputIds[0:promptTokens]} and is compared with {@code referenceResponse};
 *                     0 in a later window of a conversation split to fit the context, which starts inside the
 *                     response: scored teacher-forced, never generated from
 * @param exampleKey   the example's own key, {@code recipeId:conversationId} with {@code #n} for the n-th window of
 *                     a conversation split to fit the context: what tells two windows of one conversation apart
 *                     (absent in records written before it existed)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvalExample(
        int schemaVersion,
        String recipeId,
        String conversationId,
        String dataset,
        Split split,
        TokenIds inputIds,
        TokenIds labels,
        int promptTokens,
        String referenceResponse,
        String exampleKey)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public EvalExample {
        Objects.requireNonNull(recipeId, "recipeId");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(split, "split");
        TokenIds.requireSameLength(inputIds, labels, "inputIds/labels");
    }

    /** The example's key: its own when it has one, else {@code recipeId:conversationId}. */
    public String key() {
        return exampleKey != null ? exampleKey : recipeId + ":" + conversationId;
    }
}
