package dev.streamtune.streams;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

/**
 * Follows a whole topic from its beginning, without a consumer group, handing every record to a handler as it
 * arrives: for a view every instance builds for itself from a topic that is the record of something (the recipes a
 * stage carries out, the evaluations a trainer's early stopping reads, the dead letters a page counts). After a
 * failure it reads the topic again from the beginning, so the handler must take a record seen twice as the same
 * record.
 *
 * <p>It is {@linkplain #caughtUp caught up} once it has read up to the end of the topic as it was when it (last)
 * started reading and its catching-up action has run (a stage's workers for the recipes read are started by then); {@link #failure} is what it is retrying after, if anything.
 */
public final class TopicTail implements Runnable, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TopicTail.class);
    private static final Duration POLL = Duration.ofMillis(500);

    /** A new consumer, without a group, for each (re)start of the reading. */
    private final Supplier<org.apache.kafka.clients.consumer.Consumer<String, byte[]>> consumers;

    private final String topic;
    private final Consumer<ConsumerRecord<String, byte[]>> handler;
    private final Runnable onCaughtUp;
    private final Duration retryBackoff;
    private Thread thread;
    private volatile org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    /** Whether the current reading (since the last (re)start from the beginning) has caught up. */
    private volatile boolean readingCaughtUp;

    private volatile RuntimeException failure;

    private TopicTail(
            Supplier<org.apache.kafka.clients.consumer.Consumer<String, byte[]>> consumers,
            String topic,
            Consumer<ConsumerRecord<String, byte[]>> handler,
            Runnable onCaughtUp,
            Duration retryBackoff) {
        this.consumers = consumers;
        this.topic = topic;
        this.handler = handler;
        this.onCaughtUp = onCaughtUp;
        this.retryBackoff = retryBackoff;
    }

    /** Starts following {@code topic} on a daemon thread named after {@code clientId}. */
    public static TopicTail start(
            KafkaSettings kafka, String clientId, String topic, Consumer<ConsumerRecord<String, byte[]>> handler) {
        TopicTail tail = new TopicTail(
                () -> new KafkaConsumer<>(kafka.consumer(null, clientId)),
                topic,
                handler,
                () -> {},
                StageContext.DEFAULT_RETRY_BACKOFF);
        tail.thread = new Thread(tail, clientId);
        tail.thread.setDaemon(true);
        tail.thread.start();
        return tail;
    }

    /**
     * A tail with the stage's consumers and retry backoff (MockConsumers in unit tests), for the caller to
     * {@link #run} on its own thread; {@code onCaughtUp} runs each time a reading catches up: the first, and each one
     * begun anew after a failure.
     */
    static TopicTail of(
            StageContext context,
            String clientId,
            String topic,
            Consumer<ConsumerRecord<String, byte[]>> handler,
            Runnable onCaughtUp) {
        return new TopicTail(
                () -> context.consumer(null, clientId), topic, handler, onCaughtUp, context.retryBackoff());
    }

    @Override
    public void run() {
        while (running) {
            try (org.apache.kafka.clients.consumer.Consumer<String, byte[]> current = consumers.get()) {
                consumer = current;
                if (!running) {
                    break;
                }
                List<TopicPartition> partitions = current.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition()))
                        .toList();
                readingCaughtUp = false;
                current.assign(partitions);
                current.seekToBeginning(partitions);
                Map<TopicPartition, Long> end = current.endOffsets(partitions);
                while (running) {
                    for (ConsumerRecord<String, byte[]> record : current.poll(POLL)) {
                        handler.accept(record);
                    }
                    if (!readingCaughtUp && partitions.stream().allMatch(p -> current.position(p) >= end.get(p))) {
                        readingCaughtUp = true;
                        onCaughtUp.run();
                        // Only now: what the history starts (a stage's workers) is there for whoever asks.
                        caughtUp = true;
                    }
                    failure = null;
                }
            } catch (WakeupException e) {
                // close()
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                failure = e;
                LOG.warnf("cannot follow %s, reading it again from the beginning: %s", topic, e.getMessage());
                try {
                    Thread.sleep(retryBackoff.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
            }
        }
    }

    /** Whether it has read the whole topic as it was when it started reading. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** Whether the current reading, begun anew after a failure, has caught up again (the first reading's too). */
    public boolean readingCaughtUp() {
        return readingCaughtUp;
    }

    /** The failure it is retrying after, or null. */
    public RuntimeException failure() {
        return failure;
    }

    /** Stops reading; waits for its own thread, if it has one. */
    @Override
    public void close() {
        running = false;
        org.apache.kafka.clients.consumer.Consumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
