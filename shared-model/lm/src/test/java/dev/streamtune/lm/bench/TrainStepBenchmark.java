package dev.streamtune.lm.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.TargetModules;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Training-step throughput of one method on a Llama sized for a small CPU machine (vocab 512, hidden 256, 4 layers,
 * 8 heads, intermediate 688, batch 8 x 256 tokens, float32, tied head). A step is forward, loss, backward and the
 * AdamW update, each in its own scope. Prints one line: method, tokens/s, ms/step, first and last loss, peak RSS.
 * Run one method per JVM, so that the peak RSS is that method's ({@code bench/train-throughput.sh} does).
 *
 * <pre>java ... dev.streamtune.lm.bench.TrainStepBenchmark full|lora|jola [warmup steps] [timed steps]</pre>
 */
public final class TrainStepBenchmark {

    static final LlamaConfig CONFIG = new LlamaConfig(256, 688, 4, 8, 8, 512, 256, 10000.0, 1e-5, RopeStyle.HALF, true, null);
    static final int BATCH = 8;
    static final int SEQ = 256;

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "lora";
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            LlamaModel model = new LlamaModel(CONFIG, RandomInit.llama(CONFIG, 1, DataType.FLOAT32, manager), manager);
            List<NDArray> trainable = install(method, model, manager);
            AdamW optimizer = new AdamW(trainable, List.of(), 0.9, 0.999, 1e-8, 0.0, manager);
            int[][] batch = batch();
            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < warmup; step++) {
                losses.add(step(model, optimizer, batch, manager));
            }
            long start = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                losses.add(step(model, optimizer, batch, manager));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "djl %-5s tokens/s %8.0f  ms/step %7.1f  loss %.4f -> %.4f  peak RSS %5d MiB"
                            + "  threads %d  (%s, %d warmup + %d timed steps)%n",
                    method, (double) BATCH * SEQ * steps / seconds, 1000 * seconds / steps, losses.get(0),
                    losses.get(losses.size() - 1), peakRssMiB(), JniUtils.getNumThreads(), Compute.describe(), warmup, steps);
        }
    }

    private static List<NDArray> install(String method, LlamaModel model, NDManager manager) {
        switch (method) {
            case "full" -> {
                List<NDArray> all = new ArrayList<>(model.weights().asMap().values());
                all.forEach(p -> p.setRequiresGradient(true));
                return all;
            }
            case "lora" -> {
                LoraAdapters lora = LoraAdapters.create(new LoraSpec(8, 16, 0.0, TargetModules.of(List.of("q_proj", "v_proj")), false),
                        model.linearWeights(), manager);
                model.setAdapters(lora);
                return lora.parameters();
            }
            case "jola" -> {
                JolaGates jola = new JolaGates(CONFIG.layers(), CONFIG.heads(), CONFIG.headDim(), manager);
                model.setHeadEdits(jola);
                return jola.parameters();
            }
            default -> throw new IllegalArgumentException("method must be full, lora or jola, got " + method);
        }
    }

    private static double step(LlamaModel model, AdamW optimizer, int[][] batch, NDManager manager) {
        double loss;
        long tokens;
        try (NDManager scope = manager.newSubManager();
             GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray input = scope.create(batch);
            CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(input, null, true), input);
            collector.backward(sum.loss());
            loss = sum.loss().getFloat();
            tokens = sum.tokens();
        }
        optimizer.step(1e-3, tokens);
        return loss / tokens;
    }

    /** Random tokens: throughput does not depend on the text. */
    static int[][] batch() {
        Random random = new Random(0);
        int[][] batch = new int[BATCH][SEQ];
        for (int[] row : batch) {
            for (int t = 0; t < SEQ; t++) {
                row[t] = random.nextInt(CONFIG.vocabSize());
            }
        }
        return batch;
    }

    /** VmHWM: the process's peak resident memory. */
    static long peakRssMiB() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
