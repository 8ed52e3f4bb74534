package dev.streamtune.eval.watch;

import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.worker.EvalStage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Samples every known recipe's lag into the {@link LagHistory} every {@code eval.watch.lag-interval}, whether or not
 * a page is open, so that the page shows how the backlog grew and drained and not only where it stands.
 */
@ApplicationScoped
public class LagSampler {

    private static final Logger LOG = Logger.getLogger(LagSampler.class);

    private final EvalConfig config;
    private final EvalStage stage;
    private final ServiceApis services;

    private volatile LagHistory history;
    private ScheduledExecutorService timer;

    public LagSampler(EvalConfig config, EvalStage stage, ServiceApis services) {
        this.config = config;
        this.stage = stage;
        this.services = services;
    }

    void start(@Observes StartupEvent event) {
        history = new LagHistory(config.watch().lagSamples());
        long period = Math.max(1, config.watch().lagInterval().toMillis());
        timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "lag-sampler");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleWithFixedDelay(this::sampleAll, period, period, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** The recipe's samples, oldest first. */
    public List<LagHistory.Sample> of(String recipeId) {
        LagHistory current = history;
        return current == null ? List.of() : current.of(recipeId);
    }

    private void sampleAll() {
        try {
            if (stage.runtime() == null) {
                return;
            }
            Set<String> recipes = Set.copyOf(stage.runtime().recipes().keySet());
            history.retain(recipes);
            if (recipes.isEmpty()) {
                return;
            }
            var runs = services.trainer("/runs");
            for (String recipeId : recipes) {
                String path = "/recipes/" + ServiceApis.segment(recipeId);
                history.record(
                        recipeId,
                        LagHistory.sample(
                                Instant.now(), recipeId, services.format(path), services.tokenize(path), runs));
            }
        } catch (RuntimeException e) {
            // one failed sampling leaves a gap; the timer must keep going
            LOG.warnf(e, "sampling the stages' lag failed");
        }
    }
}
