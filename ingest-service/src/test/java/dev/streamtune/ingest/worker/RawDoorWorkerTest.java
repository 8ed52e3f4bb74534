package dev.streamtune.ingest.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Topics;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StreamWorker;
import dev.streamtune.streams.WorkerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.Test;

/**
 * The raw door's worker against kafka-clients' mock consumer, with polls that stand in for the ingestions (which
 * need PostgreSQL: {@code RawTopicDoorIT} runs them for real). Each scheduled poll task is one step of the loop, on
 * the test's thread, so no timing is involved.
 */
class RawDoorWorkerTest {

    private static final TopicPartition P0 = new TopicPartition(Topics.CONVERSATIONS_RAW, 0);

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final Deque<MockConsumer<String, byte[]>> consumers = new ArrayDeque<>();
    private final List<Map<String, Object>> consumerConfigs = new ArrayList<>();
    /** The texts of every poll that finished, in order: what was published and recorded. */
    private final List<List<String>> finished = new CopyOnWriteArrayList<>();

    private final List<List<String>> abandoned = new CopyOnWriteArrayList<>();
    private final List<Map<String, Object>> logContexts = new CopyOnWriteArrayList<>();
    /** How many of the next polls' finishes, and of the next records taken, fail as the platform would. */
    private int failingFinishes;

    private int failingTakes;

    /** A poll that keeps the texts it took and publishes nothing. */
    private final class RecordingPoll implements RawDoorWorker.Poll {
        private final List<String> texts = new ArrayList<>();

        @Override
        public void take(ConsumerRecord<String, byte[]> record) {
            logContexts.add(Map.copyOf(MDC.getMap()));
            if (failingTakes > 0 && !texts.isEmpty()) {
                failingTakes--;
                throw new UncheckedIOException(
                        "cannot spool a candidate for size-capped splits", new IOException("No space left on device"));
            }
            texts.add(new String(record.value(), StandardCharsets.UTF_8));
        }

        @Override
        public void finish() {
            if (failingFinishes > 0) {
                failingFinishes--;
                throw new IllegalStateException("cannot record a published chunk: Connection refused");
            }
            finished.add(List.copyOf(texts));
        }

        @Override
        public void abandon() {
            abandoned.add(List.copyOf(texts));
        }
    }

    private RawDoorWorker door() {
        StageContext context = new StageContext(
                RawTopicDoor.SERVICE,
                RawTopicDoor.STAGE,
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                config -> {
                    consumerConfigs.add(config);
                    return consumers.removeFirst();
                },
                Duration.ofMillis(1));
        return new RawDoorWorker(context, RawTopicDoor.SERVICE, RecordingPoll::new);
    }

    /** Remembers what was committed when the worker closed it. */
    static final class ClosingConsumer extends MockConsumer<String, byte[]> {
        final Map<TopicPartition, OffsetAndMetadata> committedAtClose = new HashMap<>();

        ClosingConsumer() {
            super("earliest");
        }

        @Override
        public synchronized void close() {
            committedAtClose.putAll(committed(Set.of(P0)));
            super.close();
        }
    }

    /** A consumer, next in line, whose poll after {@code before} hands over {@code texts} from offset 0. */
    private ClosingConsumer consumerWith(Runnable before, String... texts) {
        ClosingConsumer consumer = new ClosingConsumer();
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, (long) texts.length));
        if (before != null) {
            consumer.schedulePollTask(before);
        }
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P0));
            for (int i = 0; i < texts.length; i++) {
                consumer.addRecord(new ConsumerRecord<>(
                        Topics.CONVERSATIONS_RAW, 0, i, null, texts[i].getBytes(StandardCharsets.UTF_8)));
            }
        });
        consumers.add(consumer);
        return consumer;
    }

    /** The consumer's next poll stops the door, keeping what the consumer had committed by then. */
    private static void stopOnNextPoll(
            MockConsumer<String, byte[]> consumer,
            StreamWorker door,
            Map<TopicPartition, OffsetAndMetadata> committed) {
        consumer.schedulePollTask(() -> {
            committed.putAll(consumer.committed(Set.of(P0)));
            door.stop();
        });
    }

    @Test
    void aPlatformFailureWhileFinishingAPollStartsTheDoorOverNotReadyMeanwhileAndNothingIsLostOrDeadLettered() {
        failingFinishes = 1;
        RawDoorWorker[] door = new RawDoorWorker[1];
        List<WorkerState> whileRetrying = new ArrayList<>();
        ClosingConsumer first = consumerWith(null, "a", "b", "c");
        MockConsumer<String, byte[]> second =
                consumerWith(() -> whileRetrying.add(door[0].workerState()), "a", "b", "c");
        door[0] = door();
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        stopOnNextPoll(second, door[0], committed);

        door[0].run();

        assertThat(whileRetrying).singleElement().satisfies(state -> {
            assertThat(state.retrying()).isTrue();
            assertThat(state.failure()).isEqualTo("cannot record a published chunk: Connection refused");
            assertThat(state.retries()).isEqualTo(1);
        });
        assertThat(first.committedAtClose).isEmpty(); // the failed poll was not committed
        assertThat(finished).containsExactly(List.of("a", "b", "c")); // read again, finished once
        assertThat(committed).isEqualTo(Map.of(P0, new OffsetAndMetadata(3)));
        assertThat(producer.history()).isEmpty(); // no dead letter: the records were not at fault
        assertThat(door[0].workerState().recordFailures()).isZero();
        assertThat(door[0].workerState().retrying()).isFalse();
    }

    @Test
    void aPlatformFailureWhileTakingARecordAbandonsThePollAndReadsItAgainWithoutADeadLetter() {
        failingTakes = 1;
        consumerWith(null, "a", "b", "c");
        MockConsumer<String, byte[]> second = consumerWith(null, "a", "b", "c");
        RawDoorWorker door = door();
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        stopOnNextPoll(second, door, committed);

        door.run();

        assertThat(abandoned).containsExactly(List.of("a")); // what the failed session had taken: let go of
        assertThat(finished).containsExactly(List.of("a", "b", "c"));
        assertThat(committed).isEqualTo(Map.of(P0, new OffsetAndMetadata(3)));
        assertThat(producer.history()).isEmpty();
        assertThat(door.workerState().retries()).isEqualTo(1);
    }

    @Test
    void theDoorReadsInTheServicesGroupLogsUnderItsDoorAndCommitsWhatItFinishedWhenStopped()
            throws InterruptedException {
        ClosingConsumer consumer = consumerWith(null, "a", "b");
        RawDoorWorker door = door();
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        stopOnNextPoll(consumer, door, committed);
        Map<String, Object> afterwards = new HashMap<>();

        Thread thread = new Thread(
                () -> {
                    door.run();
                    afterwards.putAll(MDC.getMap());
                },
                "ingest-conversations-raw");
        thread.start();
        thread.join();

        // the group the SmallRye channel used: a deployment's committed offsets stay valid
        assertThat(consumerConfigs).singleElement().satisfies(config -> {
            assertThat(config).containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "ingest-service");
            assertThat(config).containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "ingest-service-conversations-raw");
            assertThat(config).containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        });
        assertThat(logContexts).containsExactly(Map.of("door", "topic"), Map.of("door", "topic"));
        assertThat(afterwards).isEmpty();
        assertThat(finished).containsExactly(List.of("a", "b"));
        assertThat(consumer.committedAtClose).isEqualTo(Map.of(P0, new OffsetAndMetadata(2)));
        assertThat(consumer.closed()).isTrue();
        assertThat(door.workerState().state()).isEqualTo(StreamWorker.State.STOPPED);
        assertThat(door.awaitStopped(Duration.ZERO)).isTrue();
    }
}
