package dev.streamtune.trainer.worker;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Training as Prometheus sees it, per recipe: the last step's loss, learning rate, gradient norm and tokens/s,
 * step time, JoLA's open heads, checkpoints written (and how long they took), batches dead-lettered, and the lag of
 * the run's consumer on {@code batches}.
 */
@ApplicationScoped
public class TrainerMetrics {

    private final MeterRegistry registry;
    /** Runs holding their model, gradients and optimiser state in this process. */
    private final AtomicInteger modelsHeld = new AtomicInteger();

    public TrainerMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("trainer_models_held", modelsHeld, AtomicInteger::get)
                .description("runs of this trainer holding their model, gradients and optimiser state in memory")
                .register(registry);
    }

    /** Per recipe, the latest figures the gauges read. */
    public static final class Figures {
        final AtomicReference<Double> loss = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> learningRate = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> gradNorm = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> tokensPerSecond = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> activeHeads = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> lag = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> modelLoaded = new AtomicReference<>(0.0);
    }

    private final Map<String, Figures> figures = new ConcurrentHashMap<>();

    private Figures of(String recipeId) {
        return figures.computeIfAbsent(recipeId, id -> {
            Figures f = new Figures();
            gauge("trainer_loss", "mean loss over the trained tokens of the last optimiser step", id, f.loss);
            gauge("trainer_learning_rate", "learning rate of the last optimiser step", id, f.learningRate);
            gauge("trainer_grad_norm", "global gradient norm of the last step, before clipping", id, f.gradNorm);
            gauge("trainer_tokens_per_second", "trained tokens per second of the last step", id, f.tokensPerSecond);
            gauge("trainer_jola_active_heads", "JoLA heads with an open gate (evaluation gates)", id, f.activeHeads);
            gauge("trainer_batches_lag", "batches of the recipe on the topic not yet read by its run", id, f.lag);
            gauge(
                    "trainer_model_loaded",
                    "1 while the run holds its model, gradients and optimiser state in memory",
                    id,
                    f.modelLoaded);
            return f;
        });
    }

    private void gauge(String name, String description, String recipeId, AtomicReference<Double> value) {
        Gauge.builder(name, value, AtomicReference::get)
                .description(description)
                .tag("recipe", recipeId)
                .register(registry);
    }

    /** An evaluation read from {@code evaluations}, by what became of it (EvaluationFeed's outcomes). */
    public void evaluation(String outcome) {
        Counter.builder("trainer_evaluations_total")
                .description("records read from evaluations, by outcome (recorded, unknown_run, unreadable, tombstone)")
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    public void step(
            String recipeId,
            double loss,
            double learningRate,
            double gradNorm,
            double tokensPerSecond,
            double seconds) {
        Figures f = of(recipeId);
        f.loss.set(loss);
        f.learningRate.set(learningRate);
        f.gradNorm.set(gradNorm);
        f.tokensPerSecond.set(tokensPerSecond);
        Timer.builder("trainer_step_seconds")
                .description("time of an optimiser step, its micro-batches included")
                .tag("recipe", recipeId)
                .register(registry)
                .record(Duration.ofNanos((long) (seconds * 1e9)));
        Counter.builder("trainer_steps_total")
                .tag("recipe", recipeId)
                .register(registry)
                .increment();
    }

    public void activeHeads(String recipeId, int heads) {
        of(recipeId).activeHeads.set((double) heads);
    }

    public void modelLoaded(String recipeId, boolean loaded) {
        of(recipeId).modelLoaded.set(loaded ? 1.0 : 0.0);
        modelsHeld.addAndGet(loaded ? 1 : -1);
    }

    /** Runs of this trainer holding their model in memory now. */
    public int modelsHeld() {
        return modelsHeld.get();
    }

    public void lag(String recipeId, long lag) {
        of(recipeId).lag.set((double) lag);
    }

    public void checkpoint(String recipeId, double seconds) {
        Counter.builder("trainer_checkpoints_total")
                .tag("recipe", recipeId)
                .register(registry)
                .increment();
        Timer.builder("trainer_checkpoint_seconds")
                .description("time to write a checkpoint atomically")
                .tag("recipe", recipeId)
                .register(registry)
                .record(Duration.ofNanos((long) (seconds * 1e9)));
    }

    public void corruptCheckpoint(String recipeId) {
        Counter.builder("trainer_checkpoints_corrupt_total")
                .tag("recipe", recipeId)
                .register(registry)
                .increment();
    }

    /**
     * The GPU's memory, used and total, as CUDA reports it (the whole device, every process on it), registered once a
     * run trains on it; nothing on the CPU.
     */
    public void gpu(Device device) {
        if (!device.isGpu() || !gpus.add(device.getDeviceId())) {
            return;
        }
        String id = String.valueOf(device.getDeviceId());
        Gauge.builder(
                        "trainer_gpu_memory_used_bytes",
                        device,
                        d -> CudaUtils.getGpuMemory(d).getUsed())
                .description("memory in use on the GPU")
                .tag("device", id)
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder(
                        "trainer_gpu_memory_total_bytes",
                        device,
                        d -> CudaUtils.getGpuMemory(d).getMax())
                .description("memory of the GPU")
                .tag("device", id)
                .baseUnit("bytes")
                .register(registry);
    }

    private final Set<Integer> gpus = ConcurrentHashMap.newKeySet();

    public void badBatch(String recipeId) {
        Counter.builder("trainer_batches_rejected_total")
                .tag("recipe", recipeId)
                .register(registry)
                .increment();
    }
}
