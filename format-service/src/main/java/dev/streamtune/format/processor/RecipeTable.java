package dev.streamtune.format.processor;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.recipe.RecipeFormats;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The active recipes, from the compacted {@code recipes} topic read from its beginning: a recipe starts (or, when
 * changed, restarts) its formatting worker; a tombstone stops it. A recipe this stage cannot format (an unknown
 * template, a Jinja template that does not parse, an EOS it cannot know) becomes a dead letter naming the field.
 */
@ApplicationScoped
public class RecipeTable {

    private static final Logger LOG = Logger.getLogger(RecipeTable.class);

    @Inject
    FormatWorkers workers;

    @Inject
    ExamplePublisher publisher;

    @Inject
    FormatMetrics metrics;

    @ConfigProperty(name = "format.model-root", defaultValue = ".")
    Path modelRoot;

    @ConfigProperty(name = "format.template-date", defaultValue = "26 Jul 2024")
    String templateDate;

    private final Map<String, Recipe> active = new ConcurrentHashMap<>();
    private RecipeFormats formats;

    @PostConstruct
    void init() {
        formats = new RecipeFormats(modelRoot, templateDate);
    }

    @Incoming(Topics.RECIPES)
    @Blocking
    public void onRecipe(ConsumerRecord<String, Recipe> record) {
        String id = record.key();
        Recipe recipe = record.value();
        if (recipe == null) {
            if (id != null && active.remove(id) != null) {
                workers.stop(id);
            }
            return;
        }
        if (recipe.equals(active.get(recipe.id()))) {
            return; // the same version again (a replay of the compacted topic)
        }
        RecipeFormat format;
        try {
            format = formats.of(recipe);
        } catch (RuntimeException e) {
            LOG.warnf("recipe %s cannot be formatted: %s", recipe.id(), e.getMessage());
            metrics.recipeRejected();
            SourceRef where = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
            publisher.publish(List.of(), List.of(DeadLetter.of(FormatWorker.STAGE, null, where,
                    "recipe " + recipe.id() + " cannot be formatted: " + e.getMessage(), "data_config", null, 0,
                    recipe.id())), Duration.ofSeconds(30));
            if (active.remove(recipe.id()) != null) {
                workers.stop(recipe.id());
            }
            return;
        }
        active.put(recipe.id(), recipe);
        workers.start(format);
    }

    public Map<String, Recipe> active() {
        return Map.copyOf(active);
    }
}
