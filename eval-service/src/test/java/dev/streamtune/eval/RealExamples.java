package dev.streamtune.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Eval examples of real ShareGPT conversations in ChatML, in stories260K's vocabulary: BOS, the first user turn and
 * the assistant header as the prompt (not trained), the first assistant reply and its turn end trained, cut to
 * {@code maxTokens}; as the tokenize stage writes them on {@code eval-examples}.
 */
public final class RealExamples {

    private RealExamples() {}

    public static List<EvalExample> of(
            Path shareGpt, TextTokenizer tokenizer, String recipeId, Split split, int from, int count, int maxTokens)
            throws IOException {
        JsonNode conversations = new ObjectMapper().readTree(shareGpt.toFile());
        List<EvalExample> examples = new ArrayList<>();
        for (int i = from; examples.size() < count && i < conversations.size(); i++) {
            JsonNode turns = conversations.get(i).path("conversations");
            String question = turns.path(0).path("value").asText();
            String answer = turns.path(1).path("value").asText();
            List<Integer> prompt = new ArrayList<>();
            tokenizer.bos().ifPresent(prompt::add);
            add(prompt, tokenizer.encodeMarkup("<|im_start|>user\n"));
            add(prompt, tokenizer.encode(question));
            add(prompt, tokenizer.encodeMarkup("<|im_end|>\n<|im_start|>assistant\n"));
            if (prompt.size() >= maxTokens - 8) {
                continue;
            }
            List<Integer> response = new ArrayList<>();
            add(response, tokenizer.encode(answer));
            add(response, tokenizer.encodeMarkup("<|im_end|>"));
            int length = Math.min(maxTokens, prompt.size() + response.size());
            int[] ids = new int[length];
            int[] labels = new int[length];
            Arrays.fill(labels, -100);
            for (int t = 0; t < length; t++) {
                ids[t] = t < prompt.size() ? prompt.get(t) : response.get(t - prompt.size());
                if (t >= prompt.size()) {
                    labels[t] = ids[t];
                }
            }
            String id = conversations.get(i).path("id").asText();
            examples.add(new EvalExample(
                    EvalExample.SCHEMA_VERSION,
                    recipeId,
                    id,
                    "sharegpt",
                    split,
                    TokenIds.of(ids),
                    TokenIds.of(labels),
                    prompt.size(),
                    answer,
                    recipeId + ":" + id));
        }
        return examples;
    }

    private static void add(List<Integer> to, int[] ids) {
        for (int id : ids) {
            to.add(id);
        }
    }
}
