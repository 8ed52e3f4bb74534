package dev.streamtune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.trainer.run.EarlyStopping.Score;
import java.util.List;
import org.junit.jupiter.api.Test;

class EarlyStoppingTest {

    @Test
    void stopsAfterPatienceEvaluationsWithoutImprovementAndKeepsTheBest() {
        List<Score> scores =
                List.of(new Score(100, 2.0), new Score(200, 1.5), new Score(300, 1.6), new Score(400, 1.55));
        EarlyStopping.Verdict verdict = EarlyStopping.judge(scores, 2, 0.0);
        assertThat(verdict.stop()).isTrue();
        assertThat(verdict.bestStep()).isEqualTo(200);
        assertThat(verdict.bestLoss()).isEqualTo(1.5);
        assertThat(verdict.reason()).contains("at step 200", "2 evaluations", "early_stopping_patience 2");
        assertThat(EarlyStopping.judge(scores.subList(0, 3), 2, 0.0).stop()).isFalse();
    }

    /**
     * transformers' Trainer moves its best on any improvement and its callback uses the threshold for patience only:
     * with threshold 0.05 and losses 1.0, 0.97, 0.96 the best is the last, and patience 2 is spent.
     */
    @Test
    void anImprovementSmallerThanTheThresholdSpendsPatienceButStillMovesTheBest() {
        List<Score> scores = List.of(new Score(1, 1.0), new Score(2, 0.97), new Score(3, 0.96));
        EarlyStopping.Verdict verdict = EarlyStopping.judge(scores, 2, 0.05);
        assertThat(verdict.bestStep()).isEqualTo(3);
        assertThat(verdict.bestLoss()).isEqualTo(0.96);
        assertThat(verdict.stop()).isTrue();
        assertThat(verdict.reason()).contains("by more than 0.05", "the best is 0.96 at step 3");
        assertThat(EarlyStopping.judge(scores, 3, 0.05).stop()).isFalse();
        assertThat(EarlyStopping.judge(scores, 2, 0.0).stop()).isFalse();
        assertThat(EarlyStopping.judge(scores, 2, 0.0).bestStep()).isEqualTo(3);
        // patience is judged against the best before each evaluation: 0.96 then 0.90 is progress past 0.05
        assertThat(EarlyStopping.judge(List.of(new Score(1, 1.0), new Score(2, 0.96), new Score(3, 0.90)), 2, 0.05)
                        .stop())
                .isFalse();
    }

    @Test
    void evaluationsAreJudgedInStepOrderAndTheBaseModelTakesNoPart() {
        // the newest checkpoint scored first (eval-service behind), and the base model's score at step 0
        List<Score> arrived = List.of(new Score(0, 0.5), new Score(3, 1.7), new Score(1, 1.5), new Score(2, 1.6));
        EarlyStopping.Verdict verdict = EarlyStopping.judge(arrived, 2, 0.0);
        assertThat(verdict.bestStep()).isEqualTo(1);
        assertThat(verdict.stop()).isTrue();
        assertThat(EarlyStopping.judge(arrived, null, 0.0).stop())
                .as("no patience: never stops")
                .isFalse();
        assertThat(EarlyStopping.judge(List.of(new Score(0, 1.0)), 1, 0.0).bestStep())
                .isNull();
    }
}
