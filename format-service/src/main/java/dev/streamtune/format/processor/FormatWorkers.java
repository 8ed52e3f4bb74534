package dev.streamtune.format.processor;

import dev.streamtune.format.recipe.RecipeFormat;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
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

    private final Map<String, Running> workers = new ConcurrentHashMap<>();

    private record Running(FormatWorker worker, Thread thread) {
    }

    /** Starts formatting for a recipe, replacing the worker of an earlier version of it. */
    public synchronized void start(RecipeFormat format) {
        stop(format.id());
        FormatWorker worker = new FormatWorker(format, bootstrapServers, publisher, metrics, publishTimeout);
        Thread thread = new Thread(worker, "format-" + format.id());
        thread.setDaemon(true);
        workers.put(format.id(), new Running(worker, thread));
        thread.start();
        LOG.infof("formatting conversations for recipe %s (template %s, datasets %s)", format.id(), format.template(),
                format.datasets().isEmpty() ? "all" : format.datasets());
    }

    /** Stops formatting for a recipe (deleted or replaced); its consumer group keeps its offsets. */
    public synchronized void stop(String recipeId) {
        Running running = workers.remove(recipeId);
        if (running != null) {
            running.worker().stop();
            try {
                running.thread().join(Duration.ofSeconds(30).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.infof("stopped formatting for recipe %s", recipeId);
        }
    }

    /** What each active recipe is doing, by recipe id. */
    public Map<String, Status> status() {
        Map<String, Status> status = new TreeMap<>();
        workers.forEach((id, running) -> {
            FormatWorker.Counts counts = running.worker().counts();
            status.put(id, new Status(id, running.worker().format().template(), running.worker().format().datasets(),
                    counts.formatted(), counts.rejected(), counts.skipped(),
                    Optional.ofNullable(running.worker().failure()).map(Throwable::getMessage).orElse(null)));
        });
        return status;
    }

    /** A recipe's formatting as the REST view and the health check show it. */
    public record Status(String recipeId, String template, java.util.Set<String> datasets, long formatted,
                         long rejected, long skipped, String failure) {
    }

    void onStop(@Observes ShutdownEvent event) {
        for (String id : workers.keySet()) {
            stop(id);
        }
    }
}
