package dev.streamtune.eval.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.events.Evaluation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The best checkpoint by a metric, beside the base on the same examples, from the evaluations as stored. */
class CheckpointRankingTest {

    private final List<EvaluationRow> rows = new ArrayList<>();
    private long ids;

    private EvaluationRow row(long step, String split, long examples, Double loss, Double accuracy) {
        EvaluationRow row = new EvaluationRow();
        row.id = ++ids;
        row.recipeId = "r";
        row.runId = "r-run";
        row.step = step;
        row.checksum = step == 0 ? Evaluation.BASE : "sha256:" + step;
        row.location = step == 0 ? "the base" : "checkpoint-" + step;
        row.split = split;
        row.examples = examples;
        row.loss = loss;
        row.perplexity = loss == null ? null : Math.exp(loss);
        row.tokenAccuracy = accuracy;
        rows.add(row);
        return row;
    }

    private CheckpointRanking.Best best(String metric) {
        return CheckpointRanking.best("r", CheckpointRanking.Metric.parse(metric), rows)
                .orElseThrow();
    }

    @Test
    void lossIsBetterLowerAccuracyHigherAndTheBaseIsTheBaselineNeverTheBest() {
        row(0, "valid", 6, 1.0, 0.9); // the base: better than every checkpoint, yet only the baseline
        row(10, "valid", 6, 2.5, 0.2);
        row(20, "valid", 6, 2.0, 0.1);
        row(30, "valid", 6, 2.2, 0.3);
        row(20, "test", 4, 0.5, 0.9); // another split

        CheckpointRanking.Best byLoss = best("valid_loss");
        assertThat(byLoss.step()).isEqualTo(20);
        assertThat(byLoss.value()).isEqualTo(2.0);
        assertThat(byLoss.baseline()).isEqualTo(1.0);
        assertThat(byLoss.summary()).isEqualTo("valid loss 1.0000 -> 2.0000 (step 20)");

        CheckpointRanking.Best byAccuracy = best("eval_token_accuracy");
        assertThat(byAccuracy.step()).isEqualTo(30);
        assertThat(byAccuracy.metric()).isEqualTo("eval_token_accuracy");
        assertThat(byAccuracy.summary()).isEqualTo("valid token accuracy 0.9000 -> 0.3000 (step 30)");
    }

    @Test
    void aTieGoesToTheEarlierStepAndErrorsAndMissingScoresAreLeftOut() {
        row(40, "valid", 6, 1.5, 0.5);
        row(30, "valid", 6, 1.5, 0.5);
        row(5, "valid", 6, Double.NaN, 0.5);
        row(7, "valid", 0, null, null).error = "checksum mismatch";

        assertThat(best("valid_loss").step()).isEqualTo(30);
    }

    @Test
    void theBaselineIsTheBaseOnTheSameExamples() {
        row(0, "valid", 4, 3.0, 0.1);
        row(10, "valid", 6, 2.0, 0.2);

        CheckpointRanking.Best best = best("valid_loss");
        assertThat(best.baseline()).isNull();
        assertThat(best.summary()).contains("the base model is not scored on these examples yet");

        row(0, "valid", 6, 2.8, 0.1);
        assertThat(best("valid_loss").baseline()).isEqualTo(2.8);
    }

    /**
     * A recipe whose second version changed the model has two bases, each scored on the same examples: a checkpoint
     * of the second version is compared with the second version's base, never with the first's.
     */
    @Test
    void aCheckpointIsComparedWithTheBaseItWasScoredOver() {
        row(0, "valid", 6, 3.0, 0.1).baseIdentity = "model-1";
        row(10, "valid", 6, 2.9, 0.2).baseIdentity = "model-1";
        row(0, "valid", 6, 5.0, 0.0).baseIdentity = "model-2";
        row(20, "valid", 6, 2.5, 0.1).baseIdentity = "model-2";

        CheckpointRanking.Best best = best("valid_loss");
        assertThat(best.step()).isEqualTo(20);
        assertThat(best.baseline()).isEqualTo(5.0);
        assertThat(best.summary()).isEqualTo("valid loss 5.0000 -> 2.5000 (step 20)");
        // by accuracy the first version's checkpoint is best: beside its own base
        assertThat(best("valid_token_accuracy").baseline()).isEqualTo(0.1);
    }

    @Test
    void aGenerationMetricIsRankedFromTheStoredJson() {
        row(10, "valid", 6, 2.0, 0.2).generationMetrics = EvalStore.json(Map.of("rouge_l", 0.4));
        row(20, "valid", 6, 2.1, 0.2).generationMetrics = EvalStore.json(Map.of("rouge_l", 0.6));

        assertThat(best("valid_rouge_l").step()).isEqualTo(20);
    }

    @Test
    void nothingScoredYetIsNoBestAndAMetricNobodyHasIsTheAsker() {
        assertThat(CheckpointRanking.best("r", CheckpointRanking.Metric.parse("valid_loss"), rows))
                .isEmpty();
        row(10, "valid", 6, 2.0, 0.2);

        assertThatThrownBy(() -> best("valid_bleu"))
                .isInstanceOf(CheckpointRanking.UnknownMetric.class)
                .hasMessageContaining("no evaluation has a measure bleu");
        assertThatThrownBy(() -> CheckpointRanking.Metric.parse("loss"))
                .isInstanceOf(CheckpointRanking.UnknownMetric.class)
                .hasMessageContaining("<split>_<measure>");
        assertThatThrownBy(() -> CheckpointRanking.Metric.parse("train_loss"))
                .isInstanceOf(CheckpointRanking.UnknownMetric.class)
                .hasMessageContaining("valid (or eval) or test");
    }
}
