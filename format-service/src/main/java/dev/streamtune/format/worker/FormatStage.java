package dev.streamtune.format.worker;

import dev.streamtune.events.Recipe;
import dev.streamtune.format.config.FormatConfig;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.recipe.RecipeFormats;
import dev.streamtune.format.template.JinjaLimits;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.streams.RecipeStage;
import dev.streamtune.streams.RecipeStreamWorker;
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
import java.util.Set;
import java.util.TreeMap;

/**
 * format-service on the stage framework: a formatting worker per active recipe, reading {@code conversations} in
 * the recipe's own consumer group. A recipe this stage cannot format (an unknown template, a Jinja template that
 * does not parse, an EOS it cannot know) becomes a dead letter naming the field.
 */
@ApplicationScoped
public class FormatStage implements RecipeStage<FormatWorker> {

    static final String SERVICE = "format-service";
    static final String STAGE = "format";

    private final StageWiring<FormatWorker> wiring;
    private final FormatMetrics metrics;
    private final FormatConfig config;

    private RecipeFormats formats;

    public FormatStage(
            MeterRegistry registry,
            @Identifier("default-kafka-broker") Map<String, Object> kafka,
            FormatMetrics metrics,
            FormatConfig config) {
        this.wiring = new StageWiring<>(SERVICE, STAGE, registry, kafka);
        this.metrics = metrics;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        formats = new RecipeFormats(
                config.modelRoot(),
                config.templateDate(),
                new JinjaLimits(config.jinja().renderTimeout(), config.jinja().maxRenders()));
        wiring.start(config.publishTimeout(), this);
    }

    void onStop(@Observes ShutdownEvent event) {
        wiring.stop();
    }

    @Override
    public FormatWorker workerFor(Recipe recipe, StageContext context) {
        RecipeFormat format;
        try {
            format = formats.of(recipe);
        } catch (RuntimeException e) {
            metrics.recipeRejected();
            throw new RecipeRejectedException("data_config", e.getMessage(), e);
        }
        return new FormatWorker(context, format, metrics);
    }

    @Override
    public String describe(FormatWorker worker) {
        RecipeFormat format = worker.format();
        return "formatting conversations for recipe " + format.id() + " (template " + format.template() + ", datasets "
                + (format.datasets().isEmpty() ? "all" : format.datasets()) + ")";
    }

    public StageRuntime<FormatWorker> runtime() {
        return wiring.runtime();
    }

    /** What each active recipe is doing, by recipe id. */
    public Map<String, Status> status() {
        Map<String, Status> status = new TreeMap<>();
        runtime()
                .workers()
                .forEach((id, worker) -> status.put(
                        id,
                        new Status(
                                id,
                                worker.format().template(),
                                worker.format().datasets(),
                                worker.counts().total(FormatWorker.FORMATTED),
                                worker.counts().total(RecipeStreamWorker.REJECTED),
                                worker.counts().total(FormatWorker.SKIPPED),
                                worker.workerState().state().name().toLowerCase(),
                                worker.workerState().failure(),
                                worker.workerState().lag())));
        return status;
    }

    /** A recipe's formatting as the REST view shows it: read = formatted + rejected + skipped. */
    public record Status(
            String recipeId,
            String template,
            Set<String> datasets,
            long formatted,
            long rejected,
            long skipped,
            String state,
            String failure,
            long lag) {}
}
