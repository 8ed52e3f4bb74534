package dev.streamtune.streams;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;

/**
 * What every service does with its stage, in one place: at start, a {@link StageRuntime} from the service's
 * {@code kafka.*} settings (in Quarkus, the {@code default-kafka-broker} map) with its meters bound; at shutdown, the
 * runtime closed. A service's stage holds one and calls it from its start and shutdown observers, which stay on the
 * service's bean (this module is plain Java), beside what only that stage prepares or stops.
 */
public final class StageWiring<W extends RecipeStreamWorker> {

    private final String service;
    private final String stage;
    private final MeterRegistry registry;
    private final Map<String, ?> kafka;
    private volatile StageRuntime<W> runtime;

    /**
     * @param service the consumer groups' and the publisher's name (e.g. format-service)
     * @param stage   what dead letters and meters name (e.g. format)
     */
    public StageWiring(String service, String stage, MeterRegistry registry, Map<String, ?> kafka) {
        this.service = service;
        this.stage = stage;
        this.registry = registry;
        this.kafka = kafka;
    }

    /** Starts reading recipes for {@code recipeStage}, with {@link StageMetrics} registered; the runtime started. */
    public StageRuntime<W> start(Duration publishTimeout, RecipeStage<W> recipeStage) {
        StageRuntime<W> started = StageRuntime.start(service, stage, kafka, publishTimeout, recipeStage);
        runtime = started;
        StageMetrics.bind(registry, started);
        return started;
    }

    /** The running stage; null until {@link #start} (while the service is still starting). */
    public StageRuntime<W> runtime() {
        return runtime;
    }

    /** Closes the runtime, when it was started. */
    public void stop() {
        StageRuntime<W> started = runtime;
        if (started != null) {
            started.close();
        }
    }
}
