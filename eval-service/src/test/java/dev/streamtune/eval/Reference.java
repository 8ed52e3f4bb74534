package dev.streamtune.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.events.EvalExample;
import dev.streamtune.lm.CausalLm;
import java.util.List;

/**
 * The scores computed directly, example by example, from the model's float32 logits with the log-softmax and the sums
 * in double on the host: what the service's batched computation must reproduce.
 */
final class Reference {

    record Scores(double loss, double tokenAccuracy, long tokens) {}

    private Reference() {}

    static Scores of(CausalLm model, List<EvalExample> examples, NDManager manager) {
        double lossSum = 0;
        long tokens = 0;
        long correct = 0;
        for (EvalExample example : examples) {
            int[] ids = example.inputIds().toArray();
            int[] labels = example.labels().toArray();
            try (NDManager scope = manager.newSubManager()) {
                NDArray logits = model.forward(scope.create(new int[][] {ids}), null, false);
                int vocab = (int) logits.getShape().get(2);
                float[] values = logits.toFloatArray();
                for (int t = 0; t + 1 < ids.length; t++) {
                    int target = labels[t + 1];
                    if (target == -100) {
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    int argmax = 0;
                    for (int v = 0; v < vocab; v++) {
                        if (values[t * vocab + v] > max) {
                            max = values[t * vocab + v];
                            argmax = v;
                        }
                    }
                    double sum = 0;
                    for (int v = 0; v < vocab; v++) {
                        sum += Math.exp(values[t * vocab + v] - max);
                    }
                    lossSum -= values[t * vocab + target] - max - Math.log(sum);
                    tokens++;
                    correct += argmax == target ? 1 : 0;
                }
            }
        }
        return new Scores(lossSum / tokens, correct / (double) tokens, tokens);
    }
}
