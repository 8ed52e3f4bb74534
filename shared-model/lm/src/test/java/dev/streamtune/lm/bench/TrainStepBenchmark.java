package dev.streamtune.lm.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.RandomTokens;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import java.io.IOException;
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
 *
 * <p>{@code TRAIN_BENCH_CONFIG=tiny} runs the tiny config instead (hidden 64, 2 layers, 4 heads, intermediate 172,
 * batch 8 x 32 tokens), where per-operation overhead dominates. Full fine-tuning also prints its model FLOPs per
 * second: 6 x (matrix-multiply parameters) per token, plus attention's 12 x layers x time x hidden.
 */
public final class TrainStepBenchmark {

    static final boolean TINY = "tiny".equals(System.getenv("TRAIN_BENCH_CONFIG"));
    static final LlamaConfig CONFIG = TINY
            ? new LlamaConfig(64, 172, 2, 4, 4, 512, 32, 10000.0, 1e-5, RopeStyle.HALF, true, null)
            : new LlamaConfig(256, 688, 4, 8, 8, 512, 256, 10000.0, 1e-5, RopeStyle.HALF, true, null);
    static final int BATCH = 8;
    static final int SEQ = TINY ? 32 : 256;

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "lora";
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            Compute.useThreadsFor(CONFIG.largestProductFlops((long) BATCH * SEQ)); // one thread for the tiny config
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
            double tokensPerSecond = (double) BATCH * SEQ * steps / seconds;
            System.out.printf(
                    Locale.ROOT,
                    "djl %-5s tokens/s %8.0f  ms/step %7.1f  loss %.4f -> %.4f  peak RSS %5d MiB"
                            + "  threads %d  (%s, %s config, %d warmup + %d timed steps)%n",
                    method,
                    tokensPerSecond,
                    1000 * seconds / steps,
                    losses.get(0),
                    losses.get(losses.size() - 1),
                    peakRssMiB(),
                    JniUtils.getNumThreads(),
                    Compute.describe(),
                    TINY ? "tiny" : "benchmark",
                    warmup,
                    steps);
            if (method.equals("full")) {
                System.out.printf(
                        Locale.ROOT,
                        "djl full model GFLOP/s %.1f  (%.0f FLOP per token)%n",
                        tokensPerSecond * flopsPerToken() / 1e9,
                        flopsPerToken());
            }
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
                LoraAdapters lora = LoraAdapters.create(
                        new LoraSpec(8, 16, 0.0, TargetModules.of(List.of("q_proj", "v_proj")), false),
                        model.linearWeights(),
                        manager);
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

    /**
     * Training FLOPs per token of a full fine-tuning step: forward and backward of every matrix multiply (2 + 4 per
     * parameter: 6 x the q/k/v/o, gate/up/down and output-head parameters; the embedding lookup is no multiply) and
     * of attention's two products, QK^T and AV, over the whole row (the causal mask saves nothing here):
     * 3 x 2 x 2 x time x hidden per layer.
     */
    static double flopsPerToken() {
        long d = CONFIG.hiddenSize();
        long matmulParameters =
                CONFIG.layers() * (2 * d * d + 2 * d * CONFIG.kvDim() + 3 * d * CONFIG.intermediateSize())
                        + (long) CONFIG.vocabSize() * d;
        return 6.0 * matmulParameters + 12.0 * CONFIG.layers() * SEQ * d;
    }

    /** Random tokens: throughput does not depend on the text. */
    static int[][] batch() {
        return RandomTokens.uniform(new Random(0), CONFIG.vocabSize(), BATCH, SEQ);
    }

    /** VmHWM: the process's peak resident memory. */
    static long peakRssMiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
