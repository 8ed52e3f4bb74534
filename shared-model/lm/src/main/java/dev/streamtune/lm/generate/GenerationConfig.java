package dev.streamtune.lm.generate;

import java.util.List;
import java.util.Set;

/**
 * How to continue a prompt, with the meaning Hugging Face's {@code generation_config.json} gives these fields.
 *
 * @param maxNewTokens      at most this many tokens after the prompt
 * @param temperature       0 for greedy decoding; otherwise logits are divided by it before sampling
 * @param topK              sample only among the k most likely tokens (0: no limit); ties at the k-th value stay
 * @param topP              sample only from the smallest set of most likely tokens whose probability reaches p (1: off)
 * @param repetitionPenalty CTRL's penalty on every token already in the sequence, prompt included: a positive logit is
 *                          divided by it, a negative one multiplied (1: off)
 * @param stopTokens        end of sequence and end of turn: generation of a row stops after emitting one
 * @param seed              sampling is reproducible for a given seed, prompt order and batch
 * @param stopSequences     token sequences that also end a row once generated (Hugging Face's {@code stop_strings}):
 *                          a turn end such as {@code <|im_end|>} that the tokenizer writes as several tokens
 */
public record GenerationConfig(
        int maxNewTokens,
        double temperature,
        int topK,
        double topP,
        double repetitionPenalty,
        Set<Integer> stopTokens,
        long seed,
        List<int[]> stopSequences) {

    public GenerationConfig(
            int maxNewTokens,
            double temperature,
            int topK,
            double topP,
            double repetitionPenalty,
            Set<Integer> stopTokens,
            long seed) {
        this(maxNewTokens, temperature, topK, topP, repetitionPenalty, stopTokens, seed, List.of());
    }

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max_new_tokens must be >= 0, got " + maxNewTokens);
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must lie in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0, got " + repetitionPenalty);
        }
        stopTokens = Set.copyOf(stopTokens);
        stopSequences = stopSequences == null
                ? List.of()
                : stopSequences.stream()
                        .filter(sequence -> sequence.length > 0)
                        .map(int[]::clone)
                        .toList();
    }

    /** Whether {@code generated} ends with one of the stop sequences. */
    public boolean endsWithStopSequence(List<Integer> generated) {
        for (int[] sequence : stopSequences) {
            int offset = generated.size() - sequence.length;
            if (offset < 0) {
                continue;
            }
            boolean matches = true;
            for (int i = 0; i < sequence.length && matches; i++) {
                matches = generated.get(offset + i) == sequence[i];
            }
            if (matches) {
                return true;
            }
        }
        return false;
    }

    /** Always the most likely token. */
    public static GenerationConfig greedy(int maxNewTokens, Set<Integer> stopTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 1, stopTokens, 0);
    }

    public boolean sampling() {
        return temperature > 0;
    }
}
