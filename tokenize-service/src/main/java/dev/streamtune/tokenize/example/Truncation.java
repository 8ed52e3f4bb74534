package dev.streamtune.tokenize.example;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What happens to an example longer than {@code max_seq_length} ({@code data_config.truncation}):
 * <ul>
 *   <li>{@link #DROP} (the default): it is rejected, and counted, with its length in the reason;</li>
 *   <li>{@link #TRUNCATE}: its start is kept, unless that leaves no trained token, when it is rejected;</li>
 *   <li>{@link #SPLIT}: it is cut into consecutive windows of at most the maximum, each window with trained tokens
 *       becoming an example of its own ({@code key#window}).</li>
 * </ul>
 * Examples with no trained token at all are rejected whatever the policy: they would add nothing but padding.
 */
public enum Truncation {
    DROP, TRUNCATE, SPLIT;

    public static Truncation parse(String value) {
        if (value == null || value.isBlank()) {
            return DROP;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "drop" -> DROP;
            case "truncate", "truncate_end", "keep_start" -> TRUNCATE;
            case "split", "window", "windows" -> SPLIT;
            default -> throw new IllegalArgumentException("data_config.truncation '" + value
                    + "': expected drop, truncate or split");
        };
    }

    /** The example's usable pieces, or a rejection saying why there are none. */
    public sealed interface Outcome permits Kept, Rejected {
    }

    public record Kept(List<TokenizedExample> examples) implements Outcome {
    }

    public record Rejected(String reason) implements Outcome {
    }

    public Outcome apply(TokenizedExample example, int maxLength) {
        if (example.trainableTokens() == 0) {
            return new Rejected("no token of the example is trained (check the recipe's train_on and the template)");
        }
        if (example.length() <= maxLength) {
            return new Kept(List.of(example));
        }
        return switch (this) {
            case DROP -> new Rejected(example.length() + " tokens exceed max_seq_length " + maxLength
                    + " (truncation: drop)");
            case TRUNCATE -> {
                TokenizedExample start = window(example, 0, maxLength, example.key());
                yield start.trainableTokens() == 0
                        ? new Rejected("the first " + maxLength + " of " + example.length() + " tokens hold no trained"
                        + " token (truncation: truncate)")
                        : new Kept(List.of(start));
            }
            case SPLIT -> {
                List<TokenizedExample> windows = new ArrayList<>();
                for (int from = 0, index = 0; from < example.length(); from += maxLength, index++) {
                    TokenizedExample window = window(example, from, Math.min(example.length(), from + maxLength),
                            example.key() + "#" + index);
                    if (window.trainableTokens() > 0) {
                        windows.add(window);
                    }
                }
                yield new Kept(windows);
            }
        };
    }

    private static TokenizedExample window(TokenizedExample example, int from, int to, String key) {
        int[] labels = Arrays.copyOfRange(example.labels(), from, to);
        int prompt = Math.min(Math.max(0, example.promptTokens() - from), to - from);
        return new TokenizedExample(key, example.conversationId(), example.dataset(), example.split(),
                Arrays.copyOfRange(example.ids(), from, to), labels, TokenizedExample.countTrainable(labels), prompt,
                example.referenceResponse());
    }
}
