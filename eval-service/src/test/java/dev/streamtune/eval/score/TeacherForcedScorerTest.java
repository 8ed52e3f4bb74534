package dev.streamtune.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LinearAdapters;
import dev.streamtune.lm.attention.KvCache;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Loss, perplexity and token accuracy on a model whose predictions are known: after token x it gives token x + 1 a
 * logit of ln 3 and every other token 0, so over a vocabulary of 4 the probability of x + 1 is 3 / 6 = 1/2 and of any
 * other token 1/6.
 */
class TeacherForcedScorerTest {

    private static final int VOCAB = 4;

    /** Predicts "the next id" after every token. */
    private static final class CountingModel implements CausalLm {
        @Override
        public NDArray forward(NDArray tokens, Packing packing, boolean training) {
            long[] shape = tokens.getShape().getShape();
            int[] ids = tokens.toIntArray();
            float[] logits = new float[ids.length * VOCAB];
            for (int i = 0; i < ids.length; i++) {
                logits[i * VOCAB + (ids[i] + 1) % VOCAB] = (float) Math.log(3);
            }
            return tokens.getManager().create(logits, new Shape(shape[0], shape[1], VOCAB));
        }

        @Override
        public NDArray forward(NDArray tokens, KvCache cache) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, NDArray> linearWeights() {
            return Map.of();
        }

        @Override
        public void setAdapters(LinearAdapters adapters) {}

        @Override
        public int layers() {
            return 1;
        }

        @Override
        public int vocabSize() {
            return VOCAB;
        }

        @Override
        public int maxPositions() {
            return 16;
        }
    }

    @Test
    void scoresTrainableTokensOnly() {
        // example 1: 0 1 2 0, the last three trained: 1 after 0 (predicted), 2 after 1 (predicted), 0 after 2 (not)
        // example 2 (shorter, padded in the batch): 3 0 1, the last two trained: 0 after 3 (predicted), 1 after 0
        // (predicted); its first label and the padding are not trained
        List<TeacherForcedScorer.Example> examples = List.of(
                new TeacherForcedScorer.Example(new int[] {0, 1, 2, 0}, new int[] {-100, 1, 2, 0}),
                new TeacherForcedScorer.Example(new int[] {3, 0, 1}, new int[] {-100, 0, 1}));
        int cores = Compute.useThreadsFor(1e12); // as a large model left it
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int batchSize : new int[] {1, 2}) {
                TeacherForcedScorer.Scores scores = new TeacherForcedScorer(
                                new CountingModel(), Precision.FLOAT32, batchSize)
                        .score(examples, manager);
                assertThat(scores.examples()).isEqualTo(2);
                assertThat(scores.tokens()).isEqualTo(5);
                assertThat(scores.correct()).isEqualTo(4);
                assertThat(scores.tokenAccuracy()).isEqualTo(0.8);
                // four tokens at probability 1/2, one at 1/6
                double loss = (4 * Math.log(2) + Math.log(6)) / 5;
                assertThat(scores.loss()).isCloseTo(loss, within(1e-6));
                assertThat(scores.perplexity()).isCloseTo(Math.exp(loss), within(1e-5));
            }
        }
        // a model this small is scored on one CPU thread (unless OMP_NUM_THREADS decides)
        assertThat(JniUtils.getNumThreads()).isEqualTo(System.getenv("OMP_NUM_THREADS") == null ? 1 : cores);
    }
}
