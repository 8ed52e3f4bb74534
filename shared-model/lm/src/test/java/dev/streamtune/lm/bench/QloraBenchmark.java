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
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.quant.QuantizedLinear;
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
 * A QLoRA training step against a LoRA step: LoRA r=8 on every linear layer of a random Llama, its base dense in
 * float32 (lora) or in NF4 with double-quantised scales (qlora), with or without activation checkpointing. Prints
 * one line: resident bytes of the linear weights and of all weights, RSS once the model is built, peak RSS during
 * the steps (the kernel's high-water mark, reset after building), ms/step and tokens/s.
 *
 * <pre>java ... dev.streamtune.lm.bench.QloraBenchmark lora|qlora benchmark|1b plain|checkpointed [warmup] [steps]</pre>
 *
 * The benchmark config is TrainStepBenchmark's (hidden 256, 4 layers, batch 8 x 256); 1b is TinyLlama-1.1B's shape
 * (hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 key/value heads, vocabulary 32000, untied head), batch 1 x
 * 256. Run one configuration per JVM ({@code bench/qlora-memory.sh} does), so that each peak is its own.
 */
public final class QloraBenchmark {

    private static final LlamaConfig ONE_B =
            new LlamaConfig(2048, 5632, 22, 32, 4, 32000, 2048, 10000.0, 1e-5, RopeStyle.HALF, false, null);

    public static void main(String[] args) throws Exception {
        String method = args.length > 0 ? args[0] : "qlora";
        boolean oneB = args.length > 1 && args[1].equals("1b");
        boolean checkpointed = args.length > 2 && args[2].equals("checkpointed");
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        LlamaConfig config = oneB ? ONE_B : TrainStepBenchmark.CONFIG;
        int rows = oneB ? 1 : TrainStepBenchmark.BATCH;
        int time = 256;
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            Compute.useThreadsFor(config.largestProductFlops((long) rows * time));
            LlamaModel model = new LlamaModel(config, RandomInit.llama(config, 1, DataType.FLOAT32, manager), manager);
            long linearDense = model.linearShapes().values().stream()
                    .mapToLong(shape -> 4 * shape.size())
                    .sum();
            if (method.equals("qlora")) {
                model.quantize(FourBitType.NF4, true);
            }
            long linearResident = method.equals("qlora")
                    ? model.weights().quantized().values().stream()
                            .mapToLong(QuantizedLinear::bytes)
                            .sum()
                    : linearDense;
            long otherDense = model.weights().asMap().values().stream()
                            .mapToLong(
                                    t -> t.getShape().size() * t.getDataType().getNumOfBytes())
                            .sum()
                    - (method.equals("qlora") ? 0 : linearDense);
            LoraAdapters lora = LoraAdapters.create(
                    new LoraSpec(8, 16, 0.0, TargetModules.of("all-linear"), false), model, manager);
            model.setAdapters(lora);
            AdamW optimizer = new AdamW(lora.parameters(), List.of(), 0.9, 0.999, 1e-8, 0.0, manager);
            System.gc();
            long rssAfterLoad = status("VmRSS:");
            Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // reset VmHWM: the peak of the steps alone
            int[][] batch = RandomTokens.uniform(new Random(0), config.vocabSize(), rows, time);
            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < warmup; step++) {
                losses.add(step(model, optimizer, batch, manager, checkpointed));
            }
            long start = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                losses.add(step(model, optimizer, batch, manager, checkpointed));
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%-5s %-9s %-12s linear weights %7.1f MiB (dense float32 %7.1f)  all weights"
                            + " %7.1f MiB  RSS built %6d MiB  peak RSS in steps %6d MiB  ms/step %8.1f  tokens/s %7.1f"
                            + "  loss %.4f -> %.4f  threads %d  (%s, %d warmup + %d timed steps)%n",
                    method,
                    oneB ? "1b" : "benchmark",
                    checkpointed ? "checkpointed" : "plain",
                    linearResident / 1048576.0,
                    linearDense / 1048576.0,
                    (linearResident + otherDense) / 1048576.0,
                    rssAfterLoad / 1024,
                    status("VmHWM:") / 1024,
                    1000 * seconds / steps,
                    (double) rows * time * steps / seconds,
                    losses.get(0),
                    losses.get(losses.size() - 1),
                    JniUtils.getNumThreads(),
                    Compute.describe(),
                    warmup,
                    steps);
        }
    }

    private static double step(
            LlamaModel model, AdamW optimizer, int[][] batch, NDManager manager, boolean checkpointed) {
        double loss;
        long tokens;
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray input = scope.create(batch);
            CausalLmLoss.Sum[] sum = new CausalLmLoss.Sum[1];
            if (checkpointed) {
                model.checkpointedBackward(
                        input, null, true, logits -> (sum[0] = CausalLmLoss.sum(logits, input)).loss(), collector);
            } else {
                sum[0] = CausalLmLoss.sum(model.forward(input, null, true), input);
                collector.backward(sum[0].loss());
            }
            loss = sum[0].loss().getFloat();
            tokens = sum[0].tokens();
        }
        optimizer.step(1e-3, tokens);
        return loss / tokens;
    }

    /** A /proc/self/status line in KiB (VmRSS now, VmHWM the peak since the last reset). */
    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }
}
