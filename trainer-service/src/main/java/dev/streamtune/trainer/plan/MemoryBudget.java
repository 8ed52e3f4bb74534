package dev.streamtune.trainer.plan;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import com.sun.management.OperatingSystemMXBean;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.runtime.Compute;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How much memory a recipe's model needs to train, judged from its configuration before anything is allocated, and
 * the budget it must fit: a recipe that names a model too large for the machine is refused with the figures, rather
 * than ending the process when its weights are allocated.
 *
 * <p>The estimate counts the base's weights (float32, 4 bytes a parameter; a 4-bit base half a byte a parameter plus
 * its embeddings and head, which stay float32) and, for full fine-tuning, their gradients and AdamW's two moments (12
 * bytes a parameter more). Adapters (a few percent of the base at most) and activations (which the batch size and
 * sequence length decide) are not counted: the budget is a floor under what the run needs, not its peak.
 *
 * @param bytes the most the model's estimate may reach
 */
public record MemoryBudget(long bytes) {

    private static final long FLOAT32 = 4;
    private static final long GRADIENT_AND_ADAMW = 12;
    /** Of the device's memory, what a run's model may take: the rest is the process's own and the activations'. */
    private static final double SHARE = 0.8;

    /** 80% of the memory of the device training runs on: the GPU's, else the machine's. */
    public static MemoryBudget ofDevice() {
        Device device = Compute.device();
        long total = device.isGpu()
                ? CudaUtils.getGpuMemory(device).getMax()
                : ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return new MemoryBudget((long) (total * SHARE));
    }

    /** The estimate of what {@code model} needs to train with {@code method}, in bytes (see the class comment). */
    public static long estimate(ModelSource model, Method method, boolean fourBit) {
        long parameters = model.parameters();
        long embeddings = 2L * model.vocabSize() * model.heads() * model.headDim(); // input and (untied) output
        long weights = fourBit
                ? (Math.max(0, parameters - embeddings) + 1) / 2 + Math.min(parameters, embeddings) * FLOAT32
                : parameters * FLOAT32;
        return method == Method.FULL ? weights + parameters * GRADIENT_AND_ADAMW : weights;
    }

    /** The problem to report when the estimate exceeds the budget; null when it fits. */
    String problem(ModelSource model, Method method, boolean fourBit, String field) {
        long needed = estimate(model, method, fourBit);
        if (needed <= bytes) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "%s: the model's %,d parameters need about %s to train with %s (%s), over the trainer's memory"
                        + " budget of %s (trainer.memory-budget)",
                field,
                model.parameters(),
                size(needed),
                method.name().toLowerCase(Locale.ROOT),
                method == Method.FULL
                        ? "weights, gradients and AdamW's moments"
                        : fourBit ? "4-bit weights" : "float32 weights",
                size(bytes));
    }

    static String size(long bytes) {
        double gib = bytes / (1024.0 * 1024 * 1024);
        return gib >= 1
                ? String.format(Locale.ROOT, "%.1f GiB", gib)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
