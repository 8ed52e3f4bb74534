package dev.streamtune.format.processor;

import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.streams.WorkerPool;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** One {@link FormatWorker} thread per active recipe, started, replaced and stopped as recipes come and go. */
@ApplicationScoped
public class FormatWorkers {

    private static final Logger LOG = Logger.getLogger(FormatWorkers.class);

    @Inject
    ExamplePublisher publisher;

    @Inject
    FormatMetrics metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "format.publish-timeout", defaultValue = "PT60S")
    Duration publishTimeout;

    private final WorkerPool<FormatWorker> workers = new WorkerPool<>("format");

    /** Starts formatting for a recipe, replacing the worker of an earlier version of it. */
    public void start(RecipeFormat format) {
        workers.start(new FormatWorker(format, bootstrapServers, publisher, metrics, publishTimeout));
        LOG.infof("formatting conversations for recipe %s (template %s, datasets %s)", format.id(), format.template(),
                format.datasets().isEmpty() ? "all" : format.datasets());
    }

    /** Stops formatting for a recipe (deleted or replaced); its consumer group keeps its offsets. */
    public void stop(String recipeId) {
        if (workers.stop(recipeId)) {
            LOG.infof("stopped formatting for recipe %s", recipeId);
        }
    }

    /** What each active recipe is doing, by recipe id. */
    public Map<String, Status> status() {
        Map<String, Status> status = new TreeMap<>();
        workers.all().forEach((id, worker) -> {
            FormatWorker.Counts counts = worker.counts();
            status.put(id, new Status(id, worker.format().template(), worker.format().datasets(),
                    counts.formatted(), counts.rejected(), counts.skipped(),
                    Optional.ofNullable(worker.failure()).map(Throwable::getMessage).orElse(null)));
        });
        return status;
    }

    /** A recipe's formatting as the REST view and the health check show it. */
    public record Status(String recipeId, String template, java.util.Set<String> datasets, long formatted,
                         long rejected, long skipped, String failure) {
    }

    void onStop(@Observes ShutdownEvent event) {
        workers.stopAll();
    }
}
