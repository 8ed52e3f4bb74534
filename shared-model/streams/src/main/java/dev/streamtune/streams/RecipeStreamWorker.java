package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A stage's work for one recipe: a {@link StreamWorker} reading its topic from the beginning in the consumer group
 * {@code <service>.<recipe id>}, so a recipe published after the data still sees all of it, a restart resumes
 * where the group committed, and recipes never hold each other up.
 *
 * <p>A record the stage cannot handle becomes a dead letter naming the record, the recipe and the reason. While it
 * runs, the worker's thread logs under its recipe: the logging context (MDC) holds {@value LogContext#RECIPE},
 * which the services' console format prints.
 */
public abstract class RecipeStreamWorker extends StreamWorker {

    protected RecipeStreamWorker(StageContext context, String recipeId, String topic) {
        super(context, recipeId, groupId(context.service(), recipeId), topic);
        logUnder(LogContext.RECIPE, recipeId);
    }

    public static String groupId(String service, String recipeId) {
        return service + "." + recipeId;
    }

    public String recipeId() {
        return name();
    }

    @Override
    protected String describe() {
        return "recipe " + recipeId();
    }

    @Override
    protected DeadLetter.Builder letterAbout(SourceRef source) {
        return super.letterAbout(source).recipe(recipeId());
    }

    /** The dead letter for a record the stage could not handle; stages may say more (the field to blame). */
    @Override
    protected DeadLetter deadLetterFor(ConsumerRecord<String, byte[]> record, RuntimeException failure) {
        String reason = where(record) + " could not be processed for recipe " + recipeId() + " by "
                + context().stage() + ": " + why(failure);
        return DeadLetter.from(context().stage(), InputOffset.of(record).source())
                .recipe(recipeId())
                .dataset(header(record, Topics.Headers.DATASET))
                .field(blamedField(failure))
                .reason(reason)
                .payload(record.value())
                .build();
    }
}
