package dev.streamtune.eval.score;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.CausalLmLoss;
import java.util.Arrays;
import java.util.List;

/**
 * Teacher-forced scores of a model over examples: the mean next-token cross-entropy over trainable tokens (labels
 * other than -100), its perplexity, and the token accuracy (the argmax of position t is the label of t+1), exactly
 * the positions the trainer's loss covers. Examples go through in batches, right-padded to the batch's longest (the
 * causal mask keeps padding out of every real position), without gradients; sums are kept in double.
 */
public final class TeacherForcedScorer {

    /** An example as scored: token ids and labels of the same length. */
    public record Example(int[] inputIds, int[] labels) {}

    /** What a pass over a set found. */
    public record Scores(long examples, long tokens, double lossSum, long correct) {

        public double loss() {
            return tokens == 0 ? Double.NaN : lossSum / tokens;
        }

        public double perplexity() {
            return Math.exp(loss());
        }

        public double tokenAccuracy() {
            return tokens == 0 ? Double.NaN : correct / (double) tokens;
        }
    }

    private final CausalLm model;
    private final Precision precision;
    private final int batchSize;

    public TeacherForcedScorer(CausalLm model, Precision precision, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.model = model;
        this.precision = precision;
        this.batchSize = batchSize;
    }

    public Scores score(List<Example> examples, NDManager manager) {
        long tokens = 0;
        long correct = 0;
        double lossSum = 0;
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<Example> batch = examples.subList(from, Math.min(examples.size(), from + batchSize));
            int longest =
                    batch.stream().mapToInt(e -> e.inputIds().length).max().orElse(0);
            if (longest > model.maxPositions()) {
                throw new IllegalArgumentException(
                        "an example has " + longest + " tokens; the model's context holds " + model.maxPositions());
            }
            int[][] ids = new int[batch.size()][longest];
            long[][] labels = new long[batch.size()][longest];
            for (int row = 0; row < batch.size(); row++) {
                Example example = batch.get(row);
                Arrays.fill(labels[row], CausalLmLoss.IGNORE_INDEX);
                System.arraycopy(example.inputIds(), 0, ids[row], 0, example.inputIds().length);
                for (int t = 0; t < example.labels().length; t++) {
                    labels[row][t] = example.labels()[t];
                }
            }
            // eval-service scores on one thread: its CPU threads follow the model (one for a small one, see
            // Compute.threadsFor), as the trainer's do
            Compute.useThreadsFor(model.largestProductFlops((long) ids.length * longest));
            try (NDManager scope = manager.newSubManager()) {
                NDArray tokenArray = scope.create(ids);
                NDArray labelArray = scope.create(labels);
                NDArray logits = model.forward(tokenArray, null, false);
                CausalLmLoss.Sum sum = CausalLmLoss.sum(logits, labelArray, precision);
                lossSum += sum.loss().toType(DataType.FLOAT64, false).getDouble();
                tokens += sum.tokens();
                correct += correct(logits, labelArray);
            }
        }
        return new Scores(examples.size(), tokens, lossSum, correct);
    }

    /** Positions whose most likely next token is the next label, over trainable labels. */
    private static long correct(NDArray logits, NDArray labels) {
        NDArray predicted = logits.get(new NDIndex(":, :-1, :")).argMax(-1);
        NDArray next = labels.get(new NDIndex(":, 1:"));
        NDArray trained = next.neq(CausalLmLoss.IGNORE_INDEX);
        return predicted
                .eq(next)
                .logicalAnd(trained)
                .toType(DataType.INT64, false)
                .sum()
                .getLong();
    }
}
