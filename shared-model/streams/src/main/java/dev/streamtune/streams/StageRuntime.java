package dev.streamtune.streams;

import dev.streamtune.events.Recipe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A stage running: the recipe lifecycle on its own thread, one worker thread per active recipe, and the one
 * acknowledged publisher they share. What a service wires up at start and closes at shutdown, and what its
 * readiness check and status views ask.
 */
public final class StageRuntime<W extends RecipeStreamWorker> implements AutoCloseable {

    private final StageContext context;
    private final RecipeStage<W> stage;
    private final WorkerPool<W> workers;
    private final RecipeLifecycle<W> lifecycle;
    private final Thread lifecycleThread;
    private final BrokerProbe broker;

    private StageRuntime(StageContext context, RecipeStage<W> stage) {
        this.context = context;
        this.stage = stage;
        this.workers = new WorkerPool<>(context.stage());
        this.lifecycle = new RecipeLifecycle<>(context, stage, workers);
        this.lifecycleThread = new Thread(lifecycle, context.stage() + "-recipes");
        lifecycleThread.setDaemon(true);
        this.broker = new BrokerProbe(context.kafka(), Duration.ofSeconds(2));
    }

    /** Starts reading recipes; workers start as their recipes arrive. */
    public static <W extends RecipeStreamWorker> StageRuntime<W> start(StageContext context, RecipeStage<W> stage) {
        StageRuntime<W> runtime = new StageRuntime<>(context, stage);
        runtime.lifecycleThread.start();
        return runtime;
    }

    /**
     * Starts a service's stage from its {@code kafka.*} settings (in Quarkus, the {@code default-kafka-broker} map):
     * one acknowledged publisher for all its workers, consumer groups named after {@code service}, dead letters
     * naming {@code stage}.
     */
    public static <W extends RecipeStreamWorker> StageRuntime<W> start(
            String service, String stage, Map<String, ?> kafka, Duration publishTimeout, RecipeStage<W> recipeStage) {
        KafkaSettings settings = new KafkaSettings(kafka);
        return start(
                StageContext.of(
                        service, stage, settings, AcknowledgedPublisher.create(settings, service, publishTimeout)),
                recipeStage);
    }

    public StageContext context() {
        return context;
    }

    /** A recipe's worker, or null when the recipe is not active here. */
    public W worker(String recipeId) {
        return workers.get(recipeId);
    }

    /** The recipes this stage knows and carries out, by id. */
    public Map<String, Recipe> recipes() {
        return lifecycle.active();
    }

    /** Whether the recipes topic has been read to its end, so that {@link #recipes()} is complete. */
    public boolean recipesKnown() {
        return lifecycle.caughtUp();
    }

    /**
     * Stops a recipe's worker and starts a new one for the same recipe (a stopped training run resumed, say); false
     * when the recipe is not active here.
     */
    public boolean restart(String recipeId) {
        Recipe recipe = lifecycle.active().get(recipeId);
        if (recipe == null) {
            return false;
        }
        workers.start(stage.workerFor(recipe, context));
        return true;
    }

    /**
     * Calls {@code listener} with the recipe id of every worker running now and of every one started later, so that
     * per-recipe views (metrics) follow the recipes as they come.
     */
    public synchronized void onWorker(Consumer<String> listener) {
        workers.onStart(listener);
        workers.all().keySet().forEach(listener);
    }

    /** Every active recipe's worker, by recipe id. */
    public Map<String, W> workers() {
        return workers.all();
    }

    /**
     * Ready when Kafka answers, the recipes are known and no worker is retrying after a failure of the infrastructure. Records
     * that failed on their own (dead letters) do not make an instance unready, but are shown.
     */
    public Readiness readiness() {
        Map<String, String> data = new LinkedHashMap<>();
        boolean up = lifecycle.caughtUp() && lifecycle.failure() == null;
        String unreachable = broker.unreachable();
        if (unreachable != null) {
            up = false;
            data.put("kafka", unreachable);
        }
        if (lifecycle.failure() != null) {
            data.put(
                    "recipes",
                    "cannot read the recipes topic, retrying: "
                            + lifecycle.failure().getMessage());
        } else if (!lifecycle.caughtUp()) {
            data.put("recipes", "reading the recipes topic");
        }
        Map<String, WorkerState> states = new TreeMap<>();
        workers.all().forEach((id, worker) -> states.put(id, worker.workerState()));
        for (WorkerState state : states.values()) {
            up &= !state.retrying();
            data.put(state.worker(), state.summary());
        }
        return new Readiness(up, data);
    }

    /** The stage's admin view of the cluster (reachability, topic ids). */
    public BrokerProbe broker() {
        return broker;
    }

    /** Readiness as a health check reports it. */
    public record Readiness(boolean up, Map<String, String> data) {}

    @Override
    public void close() {
        lifecycle.stop();
        try {
            lifecycleThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.stopAll();
        context.publisher().close();
        broker.close();
    }
}
