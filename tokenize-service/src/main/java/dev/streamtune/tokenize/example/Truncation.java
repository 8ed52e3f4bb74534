package dev.streamtune.tokenize.example;

import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.recipe.RecipeDefaults;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What happens to an example longer than {@code max_seq_length} ({@code data_config.truncation}):
 * <ul>
 *   <li>{@link #DROP} (the default): it is rejected, and counted, with its length in the reason;</li>
 *   <li>{@link #TRUNCATE}: its start is kept, unless that leaves no trained token, when it is rejected;</li>
 *   <li>{@link #SPLIT}: it is cut into consecutive windows of at most the maximum, each becoming an example of its
 *       own ({@code key#window}). A window past the first does not train its first token: in a causal LM that
 *       label is predicted from the position before it, which the cut left in the previous window. A window left
 *       with nothing to train is dropped and reported ({@link Kept#dropped()}, with the reason); when every window
 *       is, the example is rejected.</li>
 * </ul>
 * Examples with no trained token at all are rejected whatever the policy: they would add nothing but padding.
 */
public enum Truncation {
    DROP,
    TRUNCATE,
    SPLIT;

    public static Truncation parse(String value) {
        if (value == null || value.isBlank()) {
            return parse(RecipeDefaults.TRUNCATION);
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "drop" -> DROP;
            case "truncate", "truncate_end", "keep_start" -> TRUNCATE;
            case "split", "window", "windows" -> SPLIT;
            default ->
                throw new IllegalArgumentException(
                        "data_config.truncation '" + value + "': expected drop, truncate or split");
        };
    }

    /** The example's usable pieces, or a rejection saying why there are none. */
    public sealed interface Outcome permits Kept, Rejected {}

    /** @param dropped windows of a split example left with nothing to train, each with why */
    public record Kept(List<TokenizedExample> examples, List<DroppedWindow> dropped) implements Outcome {

        public Kept(List<TokenizedExample> examples) {
            this(examples, List.of());
        }
    }

    /** A window of a split example that was not kept: {@code key} is the window's ({@code key#window}). */
    public record DroppedWindow(String key, String reason) {}

    public record Rejected(String reason) implements Outcome {}

    public Outcome apply(TokenizedExample example, int maxLength) {
        if (example.trainableTokens() == 0) {
            return new Rejected("no token of the example is trained (check the recipe's train_on and the template)");
        }
        if (example.length() <= maxLength) {
            return new Kept(List.of(example));
        }
        return switch (this) {
            case DROP ->
                new Rejected(example.length() + " tokens exceed max_seq_length " + maxLength + " (truncation: drop)");
            case TRUNCATE -> {
                TokenizedExample start = window(example, 0, maxLength, example.key());
                yield start.trainableTokens() == 0
                        ? new Rejected("the first " + maxLength + " of " + example.length() + " tokens hold no trained"
                                + " token (truncation: truncate)")
                        : new Kept(List.of(start));
            }
            case SPLIT -> split(example, maxLength);
        };
    }

    private static Outcome split(TokenizedExample example, int maxLength) {
        List<TokenizedExample> windows = new ArrayList<>();
        List<DroppedWindow> dropped = new ArrayList<>();
        for (int from = 0, index = 0; from < example.length(); from += maxLength, index++) {
            int to = Math.min(example.length(), from + maxLength);
            TokenizedExample cut = window(example, from, to, example.key() + "#" + index);
            TokenizedExample window = from > 0 ? withoutFirstTarget(cut) : cut;
            if (window.trainableTokens() > 0) {
                windows.add(window);
            } else {
                dropped.add(new DroppedWindow(
                        window.key(),
                        "tokens " + from + "-" + (to - 1) + " of " + example.length()
                                + (cut.trainableTokens() == 0
                                        ? " hold no trained token"
                                        : " train only their first, which has no context inside the window")
                                + " (truncation: split)"));
            }
        }
        if (windows.isEmpty()) {
            return new Rejected("none of the " + dropped.size() + " windows of " + maxLength + " tokens holds a trained"
                    + " token past its first (truncation: split)");
        }
        return new Kept(List.copyOf(windows), List.copyOf(dropped));
    }

    /** The window with its first label ignored: nothing inside the window precedes that token to predict it. */
    private static TokenizedExample withoutFirstTarget(TokenizedExample window) {
        int[] labels = window.labels().clone();
        labels[0] = PackedSequence.IGNORE_INDEX;
        return new TokenizedExample(
                window.key(),
                window.conversationId(),
                window.dataset(),
                window.split(),
                window.ids(),
                labels,
                TokenizedExample.countTrainable(labels),
                window.promptTokens(),
                window.referenceResponse());
    }

    private static TokenizedExample window(TokenizedExample example, int from, int to, String key) {
        int[] labels = Arrays.copyOfRange(example.labels(), from, to);
        int prompt = Math.min(Math.max(0, example.promptTokens() - from), to - from);
        return new TokenizedExample(
                key,
                example.conversationId(),
                example.dataset(),
                example.split(),
                Arrays.copyOfRange(example.ids(), from, to),
                labels,
                TokenizedExample.countTrainable(labels),
                prompt,
                example.referenceResponse());
    }
}
