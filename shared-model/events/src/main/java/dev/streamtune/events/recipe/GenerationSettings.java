package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * How eval-service continues the prompts of a sample of validation and test examples, with the keys of Hugging
 * Face's {@code generation_config.json}: greedy unless {@code do_sample} (then temperature, top-k, top-p), and the
 * CTRL repetition penalty. {@code num_samples} is how many examples of each split are generated for (the first ones
 * in their set's order, so every checkpoint is compared on the same prompts).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationSettings(
        Integer maxNewTokens,
        Boolean doSample,
        Double temperature,
        Integer topK,
        Double topP,
        Double repetitionPenalty,
        Integer numSamples,
        Long seed) {

    /**
     * The most {@code max_new_tokens} a recipe may ask for: the longest context of any model family loaded here
     * (Llama 3.1's 131,072 positions). Generation stops where the model's context ends anyway; a larger number can
     * only be a mistake or an attempt to make eval-service reserve memory for it.
     */
    public static final int MAX_NEW_TOKENS_LIMIT = 131_072;
}
