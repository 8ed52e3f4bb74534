package dev.streamtune.eval.worker;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.score.BaseIdentity;
import dev.streamtune.eval.score.ScoringModels;
import dev.streamtune.events.Recipe;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.streams.RecipeStage;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.streams.StageWiring;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * eval-service on the stage framework: per active recipe a worker keeping its eval sets; one reader of the
 * checkpoints topic for all recipes; one scoring thread. A recipe whose base model or tokenizer cannot be settled
 * here becomes a dead letter naming the key, and its checkpoints error evaluations saying why.
 */
@ApplicationScoped
public class EvalStage implements RecipeStage<EvalSetWorker> {

    private static final Logger LOG = Logger.getLogger(EvalStage.class);

    public static final String SERVICE = "eval-service";
    static final String STAGE = "evaluate";
    /** The checkpoints reader's consumer group is {@code eval-service:intake.checkpoints}: no recipe's group is. */
    static final String INTAKE = SERVICE + ":intake";

    private final StageWiring<EvalSetWorker> wiring;
    private final EvalConfig config;
    private final EvalStore store;
    private final EvalMetrics metrics;

    private final RefusedRecipes refused = new RefusedRecipes();
    private RecipeModels models;
    private ScoringModels scoringModels;
    private volatile CheckpointIntake intake;
    private volatile Scorer scorer;
    private Thread intakeThread;
    private Thread scorerThread;

    public EvalStage(
            MeterRegistry registry,
            @Identifier("default-kafka-broker") Map<String, Object> kafka,
            EvalConfig config,
            EvalStore store,
            EvalMetrics metrics) {
        this.wiring = new StageWiring<>(SERVICE, STAGE, registry, kafka);
        this.config = config;
        this.store = store;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent event) {
        models = new RecipeModels(config.modelRoot());
        scoringModels = new ScoringModels(config.cachedModels());
        metrics.modelsHeld(scoringModels);
        StageRuntime<EvalSetWorker> runtime = wiring.start(config.publishTimeout(), this);
        scorer = new Scorer(
                runtime::workers,
                runtime::recipesKnown,
                refused::why,
                store,
                scoringModels,
                metrics,
                runtime.context().publisher(),
                config);
        scorerThread = new Thread(scorer, "eval-scorer");
        scorerThread.setDaemon(true);
        scorerThread.start();
        intake = new CheckpointIntake(
                StageContext.of(
                        INTAKE,
                        STAGE,
                        runtime.context().kafka(),
                        runtime.context().publisher()),
                store,
                scorer::wake);
        intakeThread = new Thread(intake, "eval-checkpoints");
        intakeThread.setDaemon(true);
        intakeThread.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        if (intake != null) {
            intake.stop();
            intakeThread.join(10_000);
        }
        if (scorer != null) {
            scorer.stop();
            scorerThread.join(30_000);
        }
        wiring.stop();
        if (scoringModels != null) {
            scoringModels.close();
        }
    }

    @Override
    public EvalSetWorker workerFor(Recipe recipe, StageContext context) {
        RecipeModels.Base base;
        try {
            base = models.base(recipe);
        } catch (IllegalArgumentException e) {
            refused.refuse(recipe.id(), e.getMessage());
            String message = e.getMessage();
            String field = message.contains(":") ? message.substring(0, message.indexOf(':')) : "model_config";
            throw new RecipeRejectedException(field, message, e);
        }
        refused.accept(recipe.id());
        BaseIdentity identity = BaseIdentity.of(recipe, base, models.modelRoot());
        LOG.debugf("recipe %s: base %s, from\n%s", recipe.id(), identity.key(), identity.description());
        return new EvalSetWorker(
                context,
                recipe,
                base,
                identity,
                store,
                metrics,
                config.maxExamplesPerSplit(),
                config.settleAfter(),
                () -> {
                    Scorer current = scorer;
                    if (current != null) {
                        current.wake();
                    }
                });
    }

    @Override
    public String describe(EvalSetWorker worker) {
        return "eval sets of recipe " + worker.recipeId() + " for "
                + worker.base().describe();
    }

    public StageRuntime<EvalSetWorker> runtime() {
        return wiring.runtime();
    }

    public CheckpointIntake intake() {
        return intake;
    }

    public Scorer scorer() {
        return scorer;
    }
}
