package dev.streamtune.trainer.worker;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.RunIds;
import dev.streamtune.events.Topics;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.streams.RecipeStage;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.streams.StageWiring;
import dev.streamtune.trainer.config.TrainerConfig;
import dev.streamtune.trainer.plan.MemoryBudget;
import dev.streamtune.trainer.plan.RecipeProblemsException;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.RunStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;

/**
 * trainer-service on the stage framework: a training run per active recipe. A recipe the trainer cannot carry
 * out (its model is missing, a LoRA target matches nothing...) becomes a dead letter naming the key; recipes
 * POSTed to this service were checked before they were published, so that is rare.
 */
@ApplicationScoped
public class TrainerStage implements RecipeStage<TrainWorker> {

    public static final String SERVICE = "trainer-service";
    static final String STAGE = "train";

    private final StageWiring<TrainWorker> wiring;
    private final TrainerConfig config;
    private final RunStore runs;
    private final TrainerMetrics metrics;

    private TrainingPlans plans;

    public TrainerStage(
            MeterRegistry registry,
            @Identifier("default-kafka-broker") Map<String, Object> kafka,
            TrainerConfig config,
            RunStore runs,
            TrainerMetrics metrics) {
        this.wiring = new StageWiring<>(SERVICE, STAGE, registry, kafka);
        this.config = config;
        this.runs = runs;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent event) {
        plans = new TrainingPlans(
                config.modelRoot(),
                config.checkpointRoot(),
                () -> config.memoryBudget()
                        .map(size -> new MemoryBudget(size.asLongValue()))
                        .orElseGet(MemoryBudget::ofDevice));
        wiring.start(config.publishTimeout(), this);
    }

    void onStop(@Observes ShutdownEvent event) {
        wiring.stop();
    }

    public TrainingPlans plans() {
        return plans;
    }

    public StageRuntime<TrainWorker> runtime() {
        return wiring.runtime();
    }

    @Override
    public TrainWorker workerFor(Recipe recipe, StageContext context) {
        TrainingPlan plan;
        try {
            plan = plans.of(recipe);
        } catch (RecipeProblemsException e) {
            throw new RecipeRejectedException(e.field(), e.getMessage(), e);
        }
        String hash = hash(recipe);
        return new TrainWorker(
                context,
                plan,
                runId(recipe.id(), hash),
                hash,
                runs,
                metrics,
                new TrainWorker.Settings(
                        config.checkpointRoot().toAbsolutePath(),
                        config.checkpointWhenIdle(),
                        config.streamEndAfter(),
                        config.evaluationWait(),
                        RunClock.SYSTEM),
                this::batchesTopicId);
    }

    @Override
    public String describe(TrainWorker worker) {
        return "training run " + worker.runId() + " ("
                + worker.plan().method().name().toLowerCase() + " on "
                + worker.plan().describeModel() + ")";
    }

    /** Kafka's id of the batches topic now (a worker's start asks, after the stage has started). */
    private String batchesTopicId() {
        StageRuntime<TrainWorker> started = runtime();
        if (started == null) {
            throw new IllegalStateException("the trainer's stage has not started yet");
        }
        return started.broker().topicId(Topics.BATCHES);
    }

    /** A run is one version of a recipe ({@link RunIds}). */
    public static String runId(String recipeId, String hash) {
        return RunIds.of(recipeId, hash);
    }

    public static String hash(Recipe recipe) {
        return RunIds.hash(recipe);
    }

    /** Asks a run to stop after checkpointing; false when no worker of this instance trains it. */
    public boolean stop(String runId) {
        TrainWorker worker = workerOf(runId);
        if (worker == null) {
            return false;
        }
        worker.requestStop();
        return true;
    }

    /** Resumes a stopped or failed run from its newest checkpoint; false when its recipe is not active here. */
    public boolean resume(String runId) {
        TrainWorker worker = workerOf(runId);
        if (worker == null) {
            return false;
        }
        runs.transition(runId, RunState.STARTING, "resumed on request");
        return runtime().restart(worker.recipeId());
    }

    /** The worker training {@code runId} on this instance, or null. */
    public TrainWorker workerOf(String runId) {
        StageRuntime<TrainWorker> current = runtime();
        if (current == null) {
            return null;
        }
        return current.workers().values().stream()
                .filter(w -> w.runId().equals(runId))
                .findFirst()
                .orElse(null);
    }
}
