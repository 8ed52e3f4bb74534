package dev.streamtune.lm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The per-sequence normalisation's weights, and the weighted loss against per-document means taken one by one. */
class CausalLmLossTest {

    private static final int I = CausalLmLoss.IGNORE_INDEX;

    /** Row 0 packs two documents (starts 0 and 5) then padding; row 1 is one document. */
    private static final int[][] LABELS = {
        {3, 4, 5, I, 6, I, 7, 8, I, I},
        {1, 1, 2, 2, 2, 2, I, I, I, 9},
    };

    private static final Packing PACKING = new Packing(new int[][] {{0, 5}, {0}}, new int[] {8, 10});

    @Test
    void eachTrainedTargetWeighsOneOverItsSequencesTargets() {
        CausalLmLoss.SequenceWeights weights = CausalLmLoss.SequenceWeights.of(LABELS, PACKING);

        // row 0: the first label is no target; document 0 keeps targets 1, 2, 4; document 1 targets 6, 7
        assertThat(weights.weights()[0]).containsExactly(0f, 1f / 3, 1f / 3, 0f, 1f / 3, 0f, 0.5f, 0.5f, 0f, 0f);
        // row 1: targets 1-5 and 9, one document
        float sixth = 1f / 6;
        assertThat(weights.weights()[1]).containsExactly(0f, sixth, sixth, sixth, sixth, sixth, 0f, 0f, 0f, sixth);
        assertThat(weights.sequences()).isEqualTo(3);
        // without packing each row is one sequence
        CausalLmLoss.SequenceWeights rows = CausalLmLoss.SequenceWeights.of(LABELS, null);
        assertThat(rows.sequences()).isEqualTo(2);
        assertThat(rows.weights()[0][6]).isEqualTo(0.2f);
    }

    @Test
    void theWeightedSumIsTheSumOfEachSequencesMeanLoss() {
        try (NDManager manager = Compute.newManager()) {
            manager.getEngine().setRandomSeed(11);
            NDArray logits = manager.randomNormal(new Shape(2, 10, 12)).toType(DataType.FLOAT64, false);
            NDArray labels = manager.create(LABELS);
            CausalLmLoss.SequenceWeights weights = CausalLmLoss.SequenceWeights.of(LABELS, PACKING);

            double weighted = CausalLmLoss.sum(
                            logits, labels, Precision.of(DataType.FLOAT64), manager.create(weights.weights()))
                    .loss()
                    .getDouble();

            // each document alone: its labels kept, every other label ignored, its plain token mean
            double expected = 0;
            long[][] documents = PACKING.documentIds(10);
            for (int row = 0; row < 2; row++) {
                for (long document : Arrays.stream(documents[row])
                        .filter(d -> d >= 0)
                        .distinct()
                        .toArray()) {
                    int[][] only = new int[2][10];
                    for (int[] r : only) {
                        Arrays.fill(r, I);
                    }
                    for (int t = 0; t < 10; t++) {
                        if (documents[row][t] == document) {
                            only[row][t] = LABELS[row][t];
                        }
                    }
                    CausalLmLoss.Sum alone =
                            CausalLmLoss.sum(logits, manager.create(only), Precision.of(DataType.FLOAT64));
                    expected += alone.loss().getDouble() / alone.tokens();
                }
            }
            // the weights are float32 (1/3 is not exact there): agreement to float32's resolution
            assertThat(weighted).isCloseTo(expected, within(1e-6));
            double tokenMean = CausalLmLoss.sum(logits, labels, Precision.of(DataType.FLOAT64))
                            .loss()
                            .getDouble()
                    / 10;
            assertThat(weighted / weights.sequences())
                    .as("not the token mean: the documents' lengths differ")
                    .isNotCloseTo(tokenMean, within(1e-3));
        }
    }
}
