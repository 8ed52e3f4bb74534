package dev.streamtune.lm.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Encodes markup: the text is cut at every special-token string (longest first, so {@code <|im_start|>} is not
 * read as a shorter token it contains), special tokens map to their ids, and the text between them goes through
 * the tokenizer's ordinary encoding. Written by hand because jtokkit's {@code encode} refuses special-token text
 * and its {@code encodeOrdinary} splits it (see DJL_NOTES).
 */
final class SpecialTokenSplitter {

    private final Map<String, Integer> specials;
    private final Pattern pattern;

    SpecialTokenSplitter(Map<String, Integer> specials) {
        this.specials = Map.copyOf(specials);
        this.pattern = specials.isEmpty()
                ? null
                : Pattern.compile(specials.keySet().stream()
                        .sorted(Comparator.comparingInt(String::length)
                                .reversed()
                                .thenComparing(Comparator.naturalOrder()))
                        .map(Pattern::quote)
                        .reduce((a, b) -> a + "|" + b)
                        .orElseThrow());
    }

    int[] encode(String text, Function<String, int[]> ordinary) {
        if (pattern == null) {
            return ordinary.apply(text);
        }
        List<int[]> parts = new ArrayList<>();
        Matcher matcher = pattern.matcher(text);
        int at = 0;
        while (matcher.find()) {
            if (matcher.start() > at) {
                parts.add(ordinary.apply(text.substring(at, matcher.start())));
            }
            parts.add(new int[] {specials.get(matcher.group())});
            at = matcher.end();
        }
        if (at < text.length()) {
            parts.add(ordinary.apply(text.substring(at)));
        }
        int length = parts.stream().mapToInt(p -> p.length).sum();
        int[] ids = new int[length];
        int position = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, ids, position, part.length);
            position += part.length;
        }
        return ids;
    }
}
