package dev.streamtune.format.processor;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.format.recipe.RecipeFormat;
import dev.streamtune.format.template.TemplateException;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Formats the {@code conversations} topic for one recipe, from its beginning, in its own consumer group
 * ({@code format-service.<recipe id>}): a recipe published later still sees every conversation, a restart resumes
 * where the group committed, and recipes never hold each other up. Each polled batch is rendered, published and
 * acknowledged by Kafka before its offsets are committed (at-least-once; a redelivered example has the same key).
 */
final class FormatWorker implements Runnable {

    private static final Logger LOG = Logger.getLogger(FormatWorker.class);
    static final String STAGE = "format";
    private static final int PAYLOAD_LIMIT = 4096;

    private static final Duration RETRY_BACKOFF = Duration.ofSeconds(2);

    private final RecipeFormat format;
    private final Properties config = new Properties();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private final ExamplePublisher publisher;
    private final FormatMetrics metrics;
    private final Timer renderTime;
    private final Duration publishTimeout;
    private final ConversationDeserializer conversations = new ConversationDeserializer();
    private final AtomicLong formatted = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile boolean running = true;
    private volatile Throwable failure;

    FormatWorker(RecipeFormat format, String bootstrapServers, ExamplePublisher publisher, FormatMetrics metrics,
                 Duration publishTimeout) {
        this.format = format;
        this.publisher = publisher;
        this.metrics = metrics;
        this.publishTimeout = publishTimeout;
        this.renderTime = metrics.renderTime(format.id(), format.template());
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(format.id()));
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "format-service-" + format.id());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "256");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    }

    static String groupId(String recipeId) {
        return "format-service." + recipeId;
    }

    /**
     * Polls until stopped. A failure (Kafka unreachable, a publish not acknowledged in time) is recorded for the
     * health check and the worker starts over from the committed offsets after a pause, so the uncommitted batch is
     * formatted again rather than lost.
     */
    @Override
    public void run() {
        while (running) {
            try (KafkaConsumer<String, byte[]> current = new KafkaConsumer<>(config)) {
                consumer = current;
                if (!running) {
                    break;
                }
                current.subscribe(List.of(Topics.CONVERSATIONS));
                while (running) {
                    ConsumerRecords<String, byte[]> records = current.poll(Duration.ofMillis(500));
                    if (!records.isEmpty()) {
                        process(records);
                        current.commitSync();
                        failure = null;
                    }
                }
            } catch (WakeupException e) {
                // stop() woke the consumer
            } catch (RuntimeException e) {
                failure = e;
                LOG.errorf(e, "formatting for recipe %s failed; starting over from the committed offsets", format.id());
                pause();
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(RETRY_BACKOFF.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void process(ConsumerRecords<String, byte[]> records) {
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

    void stop() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
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

    Throwable failure() {
        return failure;
    }
}
