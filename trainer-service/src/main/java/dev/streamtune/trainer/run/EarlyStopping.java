package dev.streamtune.trainer.run;

import java.util.Comparator;
import java.util.List;

/**
 * The best checkpoint and early stopping on the validation loss, as transformers' Trainer and its
 * {@code EarlyStoppingCallback} decide them. The best checkpoint is the one with the lowest loss: any improvement
 * moves it, however small (the Trainer's {@code best_metric}). The threshold is for patience only: an evaluation
 * counts as progress when its loss is lower than the best before it by more than {@code threshold}; after
 * {@code patience} evaluations in a row without progress, training stops. Evaluations are taken in step order whatever order they
 * arrived in (eval-service scores the newest checkpoint first when it falls behind); the base model's (step 0) is a
 * reference, not a checkpoint of the run, and takes no part.
 */
public final class EarlyStopping {

    /** One validation evaluation: a checkpoint's step and its loss. */
    public record Score(long step, double loss) {}

    /** The best checkpoint so far, and whether the run should stop (with why). */
    public record Verdict(Long bestStep, Double bestLoss, boolean stop, String reason) {}

    private EarlyStopping() {}

    /** @param patience evaluations without improvement before stopping; null never stops (best is still kept) */
    public static Verdict judge(List<Score> scores, Integer patience, double threshold) {
        List<Score> ordered = scores.stream()
                .filter(s -> s.step() > 0)
                .sorted(Comparator.comparingLong(Score::step))
                .toList();
        Score best = null;
        int withoutImprovement = 0;
        for (Score score : ordered) {
            // the callback judges against the best before this evaluation; the Trainer then moves the best
            if (best == null || (score.loss() < best.loss() && best.loss() - score.loss() > threshold)) {
                withoutImprovement = 0;
            } else {
                withoutImprovement++;
            }
            if (best == null || score.loss() < best.loss()) {
                best = score;
            }
        }
        if (best == null) {
            return new Verdict(null, null, false, null);
        }
        boolean stop = patience != null && withoutImprovement >= patience;
        String reason = stop
                ? "early stopping: the validation loss has not improved by more than " + threshold
                        + " for " + withoutImprovement + " evaluations (early_stopping_patience " + patience
                        + "); the best is "
                        + best.loss() + " at step " + best.step()
                : null;
        return new Verdict(best.step(), best.loss(), stop, reason);
    }
}
