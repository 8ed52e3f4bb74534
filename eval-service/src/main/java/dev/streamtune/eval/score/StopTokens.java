package dev.streamtune.eval.score;

import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What ends an assistant turn for a recipe's template, as generation must see it: the tokenizer's EOS, and the
 * template's turn end ({@code <|im_end|>} for ChatML, {@code <|eot_id|>} for Llama 3), a single token where the
 * tokenizer has it as a special token, else the token sequence its markup encodes to (a tokenizer without ChatML's
 * tokens writes {@code <|im_end|>} in pieces) and the text itself, which cuts a decoded generation.
 */
public record StopTokens(Set<Integer> ids, List<int[]> sequences, String turnEnd) {

    public static StopTokens of(TextTokenizer tokenizer, String formatType) {
        Set<Integer> ids = new LinkedHashSet<>();
        tokenizer.eos().ifPresent(ids::add);
        List<int[]> sequences = new ArrayList<>();
        String turnEnd = turnEnd(formatType, tokenizer);
        if (turnEnd != null) {
            Integer special = tokenizer.specialTokens().get(turnEnd);
            if (special != null) {
                ids.add(special);
            } else {
                int[] pieces = tokenizer.encodeMarkup(turnEnd);
                if (pieces.length == 1) {
                    ids.add(pieces[0]);
                } else if (pieces.length > 1) {
                    sequences.add(pieces);
                }
            }
        }
        return new StopTokens(Set.copyOf(ids), List.copyOf(sequences), turnEnd);
    }

    private static String turnEnd(String formatType, TextTokenizer tokenizer) {
        String format = (formatType == null ? RecipeDefaults.FORMAT_TYPE_WITHOUT_MODEL_TEMPLATE : formatType)
                .toLowerCase(Locale.ROOT);
        return switch (format) {
            case "chatml" -> "<|im_end|>";
            case "llama3" -> "<|eot_id|>";
            case "instruction", "alpaca" -> null; // the response ends with EOS
            default -> { // chat, jinja: the model's own template decides; take the turn end its tokenizer knows
                for (String candidate : List.of("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")) {
                    if (tokenizer.specialTokens().containsKey(candidate)) {
                        yield candidate;
                    }
                }
                yield null;
            }
        };
    }

    /** The generated text up to the turn end (a generation that wrote it in pieces is cut there). */
    public String cut(String text) {
        if (turnEnd == null) {
            return text;
        }
        int end = text.indexOf(turnEnd);
        return end < 0 ? text : text.substring(0, end);
    }
}
