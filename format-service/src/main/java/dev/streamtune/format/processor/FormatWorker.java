package dev.streamtune.format.processor;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.template.TemplateException;
import dev.streamtune.streams.RecipeStreamWorker;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;

/**
 * Formats the {@code conversations} topic for one recipe (see {@link RecipeStreamWorker} for the consumer group,
 * commits and retries): each polled batch is rendered, published and acknowledged before its offsets are committed
 * (at least once; a redelivered example has the same key).
 */
final class FormatWorker extends RecipeStreamWorker {

    private static final Logger LOG = Logger.getLogger(FormatWorker.class);
    static final String STAGE = "format";
    private static final int PAYLOAD_LIMIT = 4096;

    private final RecipeFormat format;
    private final ExamplePublisher publisher;
    private final FormatMetrics metrics;
    private final Timer renderTime;
    private final Duration publishTimeout;
    private final ConversationDeserializer conversations = new ConversationDeserializer();
    private final AtomicLong formatted = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();

    FormatWorker(RecipeFormat format, String bootstrapServers, ExamplePublisher publisher, FormatMetrics metrics,
                 Duration publishTimeout) {
        super(SERVICE, format.id(), bootstrapServers, Topics.CONVERSATIONS);
        this.format = format;
        this.publisher = publisher;
        this.metrics = metrics;
        this.publishTimeout = publishTimeout;
        this.renderTime = metrics.renderTime(format.id(), format.template());
    }

    static final String SERVICE = "format-service";

    @Override
    protected void process(ConsumerRecords<String, byte[]> records) {
        List<FormattedExample> examples = new ArrayList<>();
        List<DeadLetter> letters = new ArrayList<>();
        long skippedHere = 0;
        for (ConsumerRecord<String, byte[]> record : records) {
            SourceRef where = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
            Conversation conversation;
            try {
                conversation = conversations.deserialize(record.topic(), record.value());
            } catch (RuntimeException e) {
                letters.add(DeadLetter.of(STAGE, header(record, Topics.Headers.DATASET), where,
                        where.describe() + ": " + e.getMessage(), null, record.value(), PAYLOAD_LIMIT, format.id()));
                continue;
            }
            if (conversation == null || !format.reads(conversation)) {
                skippedHere++;
                continue;
            }
            try {
                examples.add(renderTime.record(() -> format.renderer().render(conversation)));
            } catch (TemplateException | IllegalArgumentException e) {
                letters.add(DeadLetter.of(STAGE, conversation.dataset(), where, "conversation " + conversation.id()
                        + " (" + (conversation.source() == null ? where.describe() : conversation.source().describe())
                        + ") cannot be formatted for recipe " + format.id() + " with the " + format.template()
                        + " template: " + e.getMessage(), "messages", record.value(), PAYLOAD_LIMIT, format.id()));
            }
        }
        publisher.publish(examples, letters, publishTimeout);
        formatted.addAndGet(examples.size());
        rejected.addAndGet(letters.size());
        skipped.addAndGet(skippedHere);
        metrics.count(format.id(), format.template(), FormatMetrics.Outcome.FORMATTED, examples.size());
        metrics.count(format.id(), format.template(), FormatMetrics.Outcome.REJECTED, letters.size());
        metrics.count(format.id(), format.template(), FormatMetrics.Outcome.SKIPPED, skippedHere);
        LOG.debugf("recipe %s: %d formatted, %d rejected, %d skipped", format.id(), examples.size(), letters.size(), skippedHere);
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    RecipeFormat format() {
        return format;
    }

    /** The worker's counts since it started: read = formatted + rejected + skipped. */
    record Counts(long formatted, long rejected, long skipped) {
    }

    Counts counts() {
        return new Counts(formatted.get(), rejected.get(), skipped.get());
    }
}
