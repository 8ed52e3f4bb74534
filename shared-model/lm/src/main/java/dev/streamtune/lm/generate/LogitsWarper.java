package dev.streamtune.lm.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Turns one row's next-token logits into a choice, in Hugging Face's order: repetition penalty, then (when
 * sampling) temperature, top-k and top-p, then a draw. Runs on the host: one vocabulary-sized row per step is
 * cheap next to the forward pass, and plain Java keeps the draw exactly reproducible on every device.
 */
final class LogitsWarper {

    private final GenerationConfig config;

    LogitsWarper(GenerationConfig config) {
        this.config = config;
    }

    /**
     * @param logits  the row's logits, modified in place
     * @param history every token of the row so far, prompt included (for the repetition penalty)
     * @param random  the row's own random stream
     */
    int choose(float[] logits, int[] history, int historyLength, SplittableRandom random) {
        penaliseRepetitions(logits, history, historyLength);
        if (!config.sampling()) {
            return argMax(logits);
        }
        double[] probabilities = new double[logits.length];
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit / config.temperature());
        }
        for (int i = 0; i < logits.length; i++) {
            probabilities[i] = Math.exp(logits[i] / config.temperature() - max);
        }
        keepTopK(probabilities);
        normalise(probabilities);
        keepTopP(probabilities);
        normalise(probabilities);
        return draw(probabilities, random);
    }

    private void penaliseRepetitions(float[] logits, int[] history, int length) {
        if (config.repetitionPenalty() == 1.0) {
            return;
        }
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < length; i++) {
            int token = history[i];
            if (token >= 0 && token < logits.length && !seen[token]) {
                seen[token] = true;
                float logit = logits[token];
                logits[token] =
                        (float) (logit < 0 ? logit * config.repetitionPenalty() : logit / config.repetitionPenalty());
            }
        }
    }

    /** Zero every probability below the k-th largest (ties with it stay, as in Hugging Face's TopKLogitsWarper). */
    private void keepTopK(double[] probabilities) {
        int k = config.topK();
        if (k == 0 || k >= probabilities.length) {
            return;
        }
        double[] sorted = probabilities.clone();
        Arrays.sort(sorted);
        double threshold = sorted[sorted.length - k];
        for (int i = 0; i < probabilities.length; i++) {
            if (probabilities[i] < threshold) {
                probabilities[i] = 0;
            }
        }
    }

    /**
     * Keep the most likely tokens until their probability reaches p, the token that crosses p included, and at
     * least one token.
     */
    private void keepTopP(double[] probabilities) {
        if (config.topP() >= 1.0) {
            return;
        }
        Integer[] order = new Integer[probabilities.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(probabilities[b], probabilities[a]));
        double cumulative = 0;
        int kept = 0;
        while (kept < order.length && (kept == 0 || cumulative < config.topP())) {
            cumulative += probabilities[order[kept]];
            kept++;
        }
        for (int i = kept; i < order.length; i++) {
            probabilities[order[i]] = 0;
        }
    }

    private static void normalise(double[] probabilities) {
        double sum = 0;
        for (double p : probabilities) {
            sum += p;
        }
        for (int i = 0; i < probabilities.length; i++) {
            probabilities[i] /= sum;
        }
    }

    private static int draw(double[] probabilities, SplittableRandom random) {
        double u = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probabilities.length; i++) {
            if (probabilities[i] > 0) {
                cumulative += probabilities[i];
                last = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return last; // u fell in the rounding gap at the very end
    }

    static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
