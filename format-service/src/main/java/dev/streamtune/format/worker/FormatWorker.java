package dev.streamtune.format.worker;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.template.TemplateException;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Formats the {@code conversations} topic for one recipe (the framework's {@link RecipeStreamWorker} reads it in
 * the recipe's own consumer group, publishes, commits and retries): each conversation of the recipe's datasets is
 * rendered with its template, a conversation the template cannot render becomes a dead letter, one of another
 * dataset is skipped. {@code read = formatted + rejected + skipped}.
 */
final class FormatWorker extends RecipeStreamWorker {

    static final String FORMATTED = "formatted";
    static final String SKIPPED = "skipped";

    private final RecipeFormat format;
    private final FormatMetrics metrics;
    private final Timer renderTime;
    private final ConversationDeserializer conversations = new ConversationDeserializer();

    FormatWorker(StageContext context, RecipeFormat format, FormatMetrics metrics) {
        super(context, format.id(), Topics.CONVERSATIONS);
        this.format = format;
        this.metrics = metrics;
        this.renderTime = metrics.renderTime(format.id(), format.template());
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        Conversation conversation = conversations.deserialize(record.topic(), record.value());
        if (conversation == null || !format.reads(conversation)) {
            counts().count(SKIPPED, conversation == null ? null : conversation.dataset());
            return;
        }
        FormattedExample example;
        try {
            example = renderTime.record(() -> format.renderer().render(conversation));
        } catch (TemplateException | IllegalArgumentException e) {
            InputOffset where = InputOffset.of(record);
            out.deadLetter(DeadLetter.from(context().stage(), where.source())
                    .recipe(format.id())
                    .dataset(conversation.dataset())
                    .field("messages")
                    .payload(record.value())
                    .reason("conversation " + conversation.id() + " ("
                            + (conversation.source() == null
                                    ? where.source().describe()
                                    : conversation.source().describe())
                            + ") cannot be formatted for recipe " + format.id() + " with the " + format.template()
                            + " template: " + e.getMessage())
                    .build());
            counts().count(REJECTED, conversation.dataset());
            return;
        }
        out.send(new Outgoing(Topics.EXAMPLES, example.key(), example));
        counts().count(FORMATTED, conversation.dataset());
    }

    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        counted.forEach((key, n) -> metrics.count(format.id(), format.template(), key.outcome(), n));
    }

    RecipeFormat format() {
        return format;
    }
}
