package dev.streamtune.streams;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The meter every stage has, tagged with the stage (and, for a recipe's worker, the recipe):
 * {@code stage_lag_records}, how far its input topic is ahead of what this instance has read (the consumer lag an
 * alert or a dashboard watches). Each service counts its records by outcome itself (dead letters as
 * {@code outcome="rejected"}), since only it knows its outcomes.
 */
public final class StageMetrics {

    static final String LAG = "stage_lag_records";

    private StageMetrics() {}

    /** Registers the meter of every recipe the runtime carries out, now and as recipes arrive. */
    public static void bind(MeterRegistry registry, StageRuntime<?> runtime) {
        String stage = runtime.context().stage();
        runtime.onWorker(recipeId -> {
            // read through the runtime: a recipe's worker is replaced when its recipe changes, the meter stays
            Gauge.builder(LAG, runtime, r -> lag(r.worker(recipeId)))
                    .description(
                            "records of the recipe's input topic not yet read by this instance, after its last poll")
                    .tag("stage", stage)
                    .tag("recipe", recipeId)
                    .register(registry);
        });
    }

    /** Registers the meter of a stage's one worker that reads for no recipe (ingest-service's raw door). */
    public static void bind(MeterRegistry registry, StreamWorker worker) {
        Gauge.builder(LAG, worker, StageMetrics::lag)
                .description("records of the stage's input topic not yet read by this instance, after its last poll")
                .tag("stage", worker.context().stage())
                .register(registry);
    }

    private static double lag(StreamWorker worker) {
        long lag = worker == null ? -1 : worker.workerState().lag();
        return lag < 0 ? Double.NaN : lag;
    }
}
