package dev.streamtune.eval.score;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Metrics of a generated response against its reference. ROUGE-L is Google's {@code rouge-score} (the one Hugging
 * Face's {@code evaluate} wraps) with its default tokenizer: lower case, every run of characters other than ASCII
 * letters and digits a separator, no stemming; the score is the F-measure of the longest common subsequence of the
 * two token lists. Written here because no maintained Java library computes it; the definition is a dozen lines.
 */
public final class TextMetrics {

    private TextMetrics() {}

    /** Whether the two texts are equal once surrounding whitespace is trimmed. */
    public static boolean exactMatch(String generated, String reference) {
        return reference != null && generated.strip().equals(reference.strip());
    }

    /** ROUGE-L F-measure in [0, 1]; 0 when either text has no token. */
    public static double rougeL(String generated, String reference) {
        List<String> candidate = tokens(generated);
        List<String> target = tokens(reference == null ? "" : reference);
        if (candidate.isEmpty() || target.isEmpty()) {
            return 0;
        }
        int lcs = longestCommonSubsequence(candidate, target);
        if (lcs == 0) {
            return 0;
        }
        double precision = lcs / (double) candidate.size();
        double recall = lcs / (double) target.size();
        return 2 * precision * recall / (precision + recall);
    }

    /**
     * The EmoGPT guide's token reduction: (reference tokens - generated tokens) / reference tokens. Positive when
     * the model says it in fewer tokens than the reference; NaN without a reference.
     */
    public static double tokenReduction(int referenceTokens, int generatedTokens) {
        return referenceTokens == 0 ? Double.NaN : (referenceTokens - generatedTokens) / (double) referenceTokens;
    }

    /** rouge-score's default tokenization: lower case, split on anything but [a-z0-9]. */
    static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        for (String token : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
            if (!token.isEmpty()) {
                tokens.add(token);
            }
        }
        return tokens;
    }

    static int longestCommonSubsequence(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] = x.equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.size()];
    }
}
