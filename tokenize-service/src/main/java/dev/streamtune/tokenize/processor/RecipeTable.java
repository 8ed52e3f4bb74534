package dev.streamtune.tokenize.processor;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import dev.streamtune.tokenize.recipe.Tokenizers;
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
 * changed, restarts) its tokenizing worker, a tombstone stops it, and a recipe whose tokenizer cannot be loaded
 * becomes a dead letter naming the field.
 */
@ApplicationScoped
public class RecipeTable {

    private static final Logger LOG = Logger.getLogger(RecipeTable.class);

    @Inject
    TokenizeWorkers workers;

    @Inject
    TokenizePublisher publisher;

    @ConfigProperty(name = "tokenize.model-root", defaultValue = ".")
    Path modelRoot;

    private final Map<String, Recipe> active = new ConcurrentHashMap<>();
    private Tokenizers tokenizers;

    @PostConstruct
    void init() {
        tokenizers = new Tokenizers(modelRoot);
    }

    @Incoming(Topics.RECIPES)
    @Blocking
    public void onRecipe(ConsumerRecord<String, Recipe> record) {
        Recipe recipe = record.value();
        if (recipe == null) {
            if (record.key() != null && active.remove(record.key()) != null) {
                workers.stop(record.key());
            }
            return;
        }
        if (recipe.equals(active.get(recipe.id()))) {
            return;
        }
        TokenizePlan plan;
        try {
            plan = TokenizePlan.of(recipe, tokenizers);
        } catch (RuntimeException e) {
            LOG.warnf("recipe %s cannot be tokenized: %s", recipe.id(), e.getMessage());
            SourceRef where = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
            publisher.publish(List.of(), List.of(), List.of(DeadLetter.of(TokenizeWorker.STAGE, null, where,
                    "recipe " + recipe.id() + " cannot be tokenized: " + e.getMessage(), "model_config", null, 0,
                    recipe.id())), Duration.ofSeconds(30));
            if (active.remove(recipe.id()) != null) {
                workers.stop(recipe.id());
            }
            return;
        }
        active.put(recipe.id(), recipe);
        workers.start(plan);
    }
}
