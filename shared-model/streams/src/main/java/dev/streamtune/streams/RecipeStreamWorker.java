package dev.streamtune.streams;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A stage's work for one recipe: reads a topic from its beginning in the consumer group
 * {@code <service>.<recipe id>}, so a recipe published after the data still sees all of it, a restart resumes
 * where the group committed, and recipes never hold each other up.
 *
 * <p>Each polled batch is {@linkplain #process processed} (the subclass publishes and waits for acknowledgements)
 * before offsets are committed, so delivery is at least once. A failure (Kafka unreachable, a publish not
 * acknowledged) is kept for the health check, and the worker starts over from the committed offsets after a pause:
 * the uncommitted work is done again rather than lost.
 */
public abstract class RecipeStreamWorker implements Runnable {

    private static final System.Logger LOG = System.getLogger(RecipeStreamWorker.class.getName());
    private static final Duration RETRY_BACKOFF = Duration.ofSeconds(2);
    private static final Duration POLL = Duration.ofMillis(500);

    private final String recipeId;
    private final String topic;
    private final Properties config = new Properties();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private volatile Throwable failure;

    protected RecipeStreamWorker(String service, String recipeId, String bootstrapServers, String topic) {
        this.recipeId = recipeId;
        this.topic = topic;
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(service, recipeId));
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, service + "-" + recipeId);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "256");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    }

    public static String groupId(String service, String recipeId) {
        return service + "." + recipeId;
    }

    public String recipeId() {
        return recipeId;
    }

    /** Called before each (re)start of consumption: rebuild whatever state the work keeps. */
    protected void starting() {
    }

    /** Processes one polled batch, publishing its results and waiting for their acknowledgement. */
    protected abstract void process(ConsumerRecords<String, byte[]> records);

    /**
     * Called when a poll returned nothing; returns true when it published something (a flush of buffered work),
     * so that offsets are committed.
     */
    protected boolean idle() {
        return false;
    }

    /** The offsets to commit after processing: null commits everything polled so far. */
    protected Map<TopicPartition, OffsetAndMetadata> offsetsToCommit() {
        return null;
    }

    @Override
    public final void run() {
        while (running) {
            try (KafkaConsumer<String, byte[]> current = new KafkaConsumer<>(config)) {
                consumer = current;
                if (!running) {
                    break;
                }
                starting();
                current.subscribe(List.of(topic));
                while (running) {
                    ConsumerRecords<String, byte[]> records = current.poll(POLL);
                    boolean published;
                    if (!records.isEmpty()) {
                        process(records);
                        published = true;
                    } else {
                        published = idle();
                    }
                    if (published) {
                        Map<TopicPartition, OffsetAndMetadata> offsets = offsetsToCommit();
                        if (offsets == null) {
                            current.commitSync();
                        } else if (!offsets.isEmpty()) {
                            current.commitSync(offsets);
                        }
                        failure = null;
                    }
                }
            } catch (WakeupException e) {
                // stop() woke the consumer
            } catch (RuntimeException e) {
                failure = e;
                LOG.log(Level.ERROR, "work for recipe " + recipeId + " on " + topic
                        + " failed; starting over from the committed offsets", e);
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

    /** Stops consuming; the consumer group keeps its offsets. */
    public void stop() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
    }

    /** The last failure, while the worker is retrying after it; null when it is working. */
    public Throwable failure() {
        return failure;
    }
}
