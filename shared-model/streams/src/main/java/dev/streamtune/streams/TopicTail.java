package dev.streamtune.streams;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Follows a whole topic from its beginning, on its own thread and without a consumer group, handing every record to
 * a handler as it arrives: for a view every instance builds for itself from a topic that is the record of something
 * (the evaluations a trainer's early stopping reads, the dead letters a page counts). After a failure it reads the
 * topic again from the beginning, so the handler must take a record seen twice as the same record.
 */
public final class TopicTail implements Runnable, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TopicTail.class.getName());
    private static final Duration POLL = Duration.ofMillis(500);

    private final KafkaSettings kafka;
    private final String clientId;
    private final String topic;
    private final Consumer<ConsumerRecord<String, byte[]>> handler;
    private final Duration retryBackoff;
    private final Thread thread;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;

    private TopicTail(KafkaSettings kafka, String clientId, String topic,
                      Consumer<ConsumerRecord<String, byte[]>> handler, Duration retryBackoff) {
        this.kafka = kafka;
        this.clientId = clientId;
        this.topic = topic;
        this.handler = handler;
        this.retryBackoff = retryBackoff;
        this.thread = new Thread(this, clientId);
        thread.setDaemon(true);
    }

    /** Starts following {@code topic} on a daemon thread named after {@code clientId}. */
    public static TopicTail start(KafkaSettings kafka, String clientId, String topic,
                                  Consumer<ConsumerRecord<String, byte[]>> handler) {
        TopicTail tail = new TopicTail(kafka, clientId, topic, handler, StageContext.DEFAULT_RETRY_BACKOFF);
        tail.thread.start();
        return tail;
    }

    @Override
    public void run() {
        while (running) {
            try (KafkaConsumer<String, byte[]> current = new KafkaConsumer<>(kafka.consumer(null, clientId))) {
                consumer = current;
                if (!running) {
                    break;
                }
                List<TopicPartition> partitions = current.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                current.assign(partitions);
                current.seekToBeginning(partitions);
                while (running) {
                    for (ConsumerRecord<String, byte[]> record : current.poll(POLL)) {
                        handler.accept(record);
                    }
                }
            } catch (WakeupException e) {
                // close()
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                LOG.log(Level.WARNING, "cannot follow " + topic + ", reading it again from the beginning: " + e.getMessage());
                try {
                    Thread.sleep(retryBackoff.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
