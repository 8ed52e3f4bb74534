package dev.streamtune.eval.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.streamtune.eval.score.TeacherForcedScorer;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.generate.Generator;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.CausalLmLoss;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * eval-service's throughput on the trainer's benchmark config (Llama, vocab 512, hidden 256, 4 layers, 8 heads,
 * batch 8 x 256 tokens, float32): teacher-forced scoring (forward without gradients, loss and argmax) against the
 * forward of a training step (forward and loss with the gradient recorded), and generation tokens/s of 8 prompts of
 * 32 tokens continued by 64 tokens, with the key/value cache ({@link Generator}) and without it (the whole sequence
 * through the model again for every new token).
 *
 * <pre>java ... dev.streamtune.eval.bench.EvalBenchmark [repetitions]</pre>
 */
public final class EvalBenchmark {

    static final LlamaConfig CONFIG =
            new LlamaConfig(256, 688, 4, 8, 8, 512, 512, 10000.0, 1e-5, RopeStyle.HALF, true, null);
    static final int BATCH = 8;
    static final int SEQ = 256;
    static final int PROMPT = 32;
    static final int NEW_TOKENS = 64;

    public static void main(String[] args) throws Exception {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            Compute.useThreadsFor(CONFIG.largestProductFlops((long) BATCH * SEQ));
            LlamaModel model = new LlamaModel(CONFIG, RandomInit.llama(CONFIG, 1, DataType.FLOAT32, manager), manager);
            SplittableRandom random = new SplittableRandom(7);
            List<TeacherForcedScorer.Example> examples = new ArrayList<>();
            int[][] ids = new int[BATCH][SEQ];
            for (int row = 0; row < BATCH; row++) {
                for (int t = 0; t < SEQ; t++) {
                    ids[row][t] = random.nextInt(3, CONFIG.vocabSize());
                }
                examples.add(new TeacherForcedScorer.Example(ids[row], ids[row]));
            }
            TeacherForcedScorer scorer = new TeacherForcedScorer(model, Precision.FLOAT32, BATCH);
            scorer.score(examples, manager); // warm-up
            trainingForward(model, ids, manager);
            // interleaved, so that a machine's drift (other work, clock changes) falls on both alike
            long scoringNanos = 0;
            long trainingNanos = 0;
            for (int i = 0; i < repetitions; i++) {
                // as on the service's scoring thread: no gradient recorded (a collector turns the mode back on)
                JniUtils.setGradMode(false);
                long start = System.nanoTime();
                scorer.score(examples, manager);
                scoringNanos += System.nanoTime() - start;
                start = System.nanoTime();
                trainingForward(model, ids, manager);
                trainingNanos += System.nanoTime() - start;
            }
            double scoring = (double) BATCH * SEQ * repetitions / (scoringNanos / 1e9);
            double training = (double) BATCH * SEQ * repetitions / (trainingNanos / 1e9);
            System.out.printf(
                    Locale.ROOT,
                    "teacher-forced scoring tokens/s %8.0f  training-step forward tokens/s %8.0f"
                            + "  ratio %.2f  (%s; batch %d x %d, %d repetitions each, interleaved)%n",
                    scoring,
                    training,
                    scoring / training,
                    Compute.describe(),
                    BATCH,
                    SEQ,
                    repetitions);

            List<int[]> prompts = new ArrayList<>();
            for (int row = 0; row < BATCH; row++) {
                prompts.add(Arrays.copyOf(ids[row], PROMPT));
            }
            JniUtils.setGradMode(false);
            GenerationConfig greedy = GenerationConfig.greedy(NEW_TOKENS, Set.of());
            Generator generator = new Generator(model);
            generator.generate(prompts, greedy, manager);
            int reps = Math.max(1, repetitions / 3);
            long start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                generator.generate(prompts, greedy, manager);
            }
            double cached = (double) BATCH * NEW_TOKENS * reps / ((System.nanoTime() - start) / 1e9);
            start = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                withoutCache(model, prompts, manager);
            }
            double uncached = (double) BATCH * NEW_TOKENS * reps / ((System.nanoTime() - start) / 1e9);
            System.out.printf(
                    Locale.ROOT,
                    "generation tokens/s with key/value cache %7.0f  without %7.0f  speed-up %.1fx"
                            + "  (%d prompts of %d tokens, %d new tokens each, greedy, %d repetitions)%n",
                    cached,
                    uncached,
                    cached / uncached,
                    BATCH,
                    PROMPT,
                    NEW_TOKENS,
                    reps);
        }
    }

    /** The forward half of a training step: forward and loss with the gradient recorded, no backward. */
    private static void trainingForward(LlamaModel model, int[][] ids, NDManager manager) {
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            model.weights().asMap().values().forEach(w -> w.setRequiresGradient(true));
            NDArray tokens = scope.create(ids);
            NDArray logits = model.forward(tokens, null, true);
            CausalLmLoss.sum(logits, tokens.toType(DataType.INT64, false))
                    .loss()
                    .getFloat();
        }
    }

    /** Greedy generation that runs the whole sequence through the model for each new token. */
    private static void withoutCache(LlamaModel model, List<int[]> prompts, NDManager manager) {
        int[][] sequences = new int[prompts.size()][];
        for (int row = 0; row < prompts.size(); row++) {
            sequences[row] = prompts.get(row).clone();
        }
        for (int step = 0; step < NEW_TOKENS; step++) {
            try (NDManager scope = manager.newSubManager()) {
                NDArray logits = model.forward(scope.create(sequences), null, false);
                int[] next = logits.get(new NDIndex(":, -1, :"))
                        .argMax(-1)
                        .toType(DataType.INT32, false)
                        .toIntArray();
                for (int row = 0; row < sequences.length; row++) {
                    int[] longer = Arrays.copyOf(sequences[row], sequences[row].length + 1);
                    longer[longer.length - 1] = next[row];
                    sequences[row] = longer;
                }
            }
        }
    }
}
