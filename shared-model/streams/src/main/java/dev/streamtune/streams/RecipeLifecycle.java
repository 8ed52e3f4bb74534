package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.RecipeDeserializer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * The control plane of a stage: the compacted {@code recipes} topic, read from its beginning by every instance
 * (no consumer group: each instance must know every recipe). A recipe starts its worker, a changed version replaces
 * it (the earlier version's worker is retired, naming the new one), a tombstone retires it; a recipe the stage cannot
 * carry out, or cannot even read (another schema version), becomes a dead letter naming the recipe and the field, and
 * retires the worker of its earlier version.
 *
 * <p>It is {@linkplain #caughtUp caught up} once it has read up to the end of the topic as it was when it started:
 * until then the instance does not know its work and is not ready. What it reads before that is history: only the
 * last record of each recipe counts, so a start carries out each recipe's latest version once and never starts
 * (a trainer: loads the model of) a version that a later record on the topic already replaced or deleted.
 */
public final class RecipeLifecycle<W extends RecipeStreamWorker> implements Runnable {

    private static final Logger LOG = Logger.getLogger(RecipeLifecycle.class);

    private final StageContext context;
    private final RecipeStage<W> stage;
    private final WorkerPool<W> workers;
    private final RecipeDeserializer recipes = new RecipeDeserializer();
    private final Map<String, Recipe> active = new ConcurrentHashMap<>();
    /** Until caught up, the last record of each recipe read, in the order recipes were first seen. */
    private final Map<String, ConsumerRecord<String, byte[]>> history = new LinkedHashMap<>();

    private final TopicTail tail;

    public RecipeLifecycle(StageContext context, RecipeStage<W> stage, WorkerPool<W> workers) {
        this.context = context;
        this.stage = stage;
        this.workers = workers;
        this.tail =
                TopicTail.of(context, context.service() + "-recipes", Topics.RECIPES, this::read, this::caughtUpNow);
    }

    /** A record of the recipes topic: history until caught up, carried out at once after. */
    void read(ConsumerRecord<String, byte[]> record) {
        if (tail.readingCaughtUp()) {
            apply(record);
        } else if (record.key() == null) {
            apply(record); // cannot be superseded by key: judged on its own
        } else {
            history.remove(record.key()); // a recipe deleted and posted again counts from where it was posted again
            history.put(record.key(), record);
        }
    }

    /**
     * The topic's history read (at the start, and again after the reading failed and began anew): each recipe's last
     * record is carried out; one equal to the version active already changes nothing.
     */
    private void caughtUpNow() {
        history.values().forEach(this::apply);
        history.clear();
        LOG.infof("%s knows its recipes: %s", context.service(), active.keySet());
    }

    /** Reads the recipes topic until {@link #stop}: run it on its own thread. */
    @Override
    public void run() {
        tail.run();
    }

    /**
     * One record of the recipes topic, carried out now: start, replace or retire a worker (the topic's reader calls it
     * once caught up; a test driving a stage's workers may call it directly).
     */
    public void apply(ConsumerRecord<String, byte[]> record) {
        String id = record.key();
        SourceRef where = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
        if (record.value() == null) {
            if (id != null && active.remove(id) != null) {
                workers.retire(id, "recipe " + id + " was deleted");
                LOG.infof("recipe %s deleted: its work in %s stopped", id, context.service());
            }
            return;
        }
        Recipe recipe;
        try {
            recipe = recipes.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            reject(
                    id,
                    where,
                    null,
                    "recipe " + id + " at " + where.describe() + " cannot be read: " + e.getMessage(),
                    record.value());
            return;
        }
        if (recipe.equals(active.get(recipe.id()))) {
            return; // the same version again
        }
        W worker;
        try {
            worker = stage.workerFor(recipe, context);
        } catch (RecipeRejectedException e) {
            reject(
                    recipe.id(),
                    where,
                    e.field(),
                    "recipe " + recipe.id() + " cannot be carried out by " + context.service() + ": " + e.getMessage(),
                    null);
            return;
        } catch (RuntimeException e) {
            reject(
                    recipe.id(),
                    where,
                    null,
                    "recipe " + recipe.id() + " cannot be carried out by " + context.service() + ": " + e.getMessage(),
                    null);
            return;
        }
        Recipe earlier = active.put(recipe.id(), recipe);
        if (earlier == null) {
            workers.start(worker);
        } else {
            workers.replace(
                    worker,
                    "recipe " + recipe.id() + " was replaced by a new version: " + stage.describe(worker)
                            + " takes over");
        }
        LOG.infof("%s started %s", context.service(), stage.describe(worker));
    }

    private void reject(String recipeId, SourceRef where, String field, String reason, byte[] payload) {
        LOG.warn(reason);
        context.publisher()
                .publish(Outgoing.deadLetter(DeadLetter.from(context.stage(), where)
                        .recipe(recipeId)
                        .field(field)
                        .reason(reason)
                        .payload(payload)
                        .build()));
        if (recipeId != null && active.remove(recipeId) != null) {
            workers.retire(recipeId, reason);
        }
    }

    public boolean caughtUp() {
        return tail.caughtUp();
    }

    /** The failure it is retrying after, or null. */
    public Throwable failure() {
        return tail.failure();
    }

    public Map<String, Recipe> active() {
        return Map.copyOf(active);
    }

    public void stop() {
        tail.close();
    }
}
