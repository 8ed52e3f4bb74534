package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.Event;
import dev.streamtune.events.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.Test;

/**
 * The worker's loop against kafka-clients' mock consumer and producer, run on the test's thread: each scheduled
 * poll task is one step of the loop, and the last one stops the worker, so no timing is involved.
 */
class RecipeStreamWorkerTest {

    private static final String IN = "in";
    private static final String OUT = "out";
    private static final TopicPartition P0 = new TopicPartition(IN, 0);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the echo stage publishes. */
    record Echo(int schemaVersion, String text) implements Event {}

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final Deque<MockConsumer<String, byte[]>> consumers = new ArrayDeque<>();
    private final List<MockConsumer<String, byte[]>> used = new ArrayList<>();

    private StageContext context(Duration publishTimeout) {
        return new StageContext(
                "echo-service",
                "echo",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(producer, publishTimeout),
                config -> {
                    MockConsumer<String, byte[]> next = consumers.removeFirst();
                    used.add(next);
                    return next;
                },
                Duration.ofMillis(1));
    }

    /** Echoes each record; a record whose text starts with "poison" cannot be handled. */
    static class EchoWorker extends RecipeStreamWorker {
        final AtomicInteger starts = new AtomicInteger();

        EchoWorker(StageContext context) {
            super(context, "r1", IN);
        }

        @Override
        protected void starting() {
            starts.incrementAndGet();
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            String text = new String(record.value(), StandardCharsets.UTF_8);
            out.send(new Outgoing(OUT, record.key(), new Echo(1, text + " (first output)")));
            counts().count("echoed", "d");
            if (text.startsWith("poison")) {
                throw new IllegalArgumentException("field 'text': expected no poison, found '" + text + "'");
            }
            out.send(new Outgoing(OUT, record.key(), new Echo(1, text)));
        }
    }

    private static MockConsumer<String, byte[]> consumerWith(String... texts) {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, (long) texts.length));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P0));
            for (int i = 0; i < texts.length; i++) {
                consumer.addRecord(new ConsumerRecord<>(IN, 0, i, "k" + i, texts[i].getBytes(StandardCharsets.UTF_8)));
            }
        });
        return consumer;
    }

    /** The next poll stops the worker; returns what the consumer had committed by then. */
    private static Map<TopicPartition, OffsetAndMetadata> stopAndKeepCommitted(
            MockConsumer<String, byte[]> consumer, RecipeStreamWorker worker) {
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        consumer.schedulePollTask(() -> {
            committed.putAll(consumer.committed(Set.of(P0)));
            worker.stop();
        });
        return committed;
    }

    private static List<String> texts(List<ProducerRecord<String, byte[]>> records, String topic) {
        return records.stream()
                .filter(r -> r.topic().equals(topic))
                .map(r -> {
                    try {
                        JsonNode node = JSON.readTree(r.value());
                        return node.has("text")
                                ? node.get("text").asText()
                                : node.get("reason").asText();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .toList();
    }

    @Test
    void aRecordThatFailsBecomesADeadLetterAndTheWorkerGoesOn() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "poison pill", "b");
        consumers.add(consumer);
        EchoWorker worker = new EchoWorker(context(Duration.ofSeconds(5)));
        Map<TopicPartition, OffsetAndMetadata> committed = stopAndKeepCommitted(consumer, worker);

        worker.run();

        // The poison record's partial output was taken back; only its dead letter remains.
        assertThat(texts(producer.history(), OUT)).containsExactly("a (first output)", "a", "b (first output)", "b");
        List<String> letters = texts(producer.history(), Topics.CONVERSATIONS_REJECTED);
        assertThat(letters)
                .singleElement()
                .asString()
                .contains("in-0@1", "key k1", "recipe r1", "field 'text': expected no poison");
        assertThat(producer.history().stream()
                        .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                        .map(ProducerRecord::key))
                .containsExactly("in-0@1");
        assertThat(committed).containsEntry(P0, new OffsetAndMetadata(3));
        WorkerState state = worker.workerState();
        assertThat(state.recordFailures()).isEqualTo(1);
        // read = echoed + rejected: the failed record's own count was taken back with its outputs
        assertThat(worker.counts().totals()).isEqualTo(Map.of("echoed", 2L, "rejected", 1L));
        assertThat(state.retrying()).isFalse();
        assertThat(state.state()).isEqualTo(RecipeStreamWorker.State.STOPPED);
    }

    /** A producer whose first sends fail as an unreachable broker's would. */
    static final class FlakyProducer extends MockProducer<String, byte[]> {
        private int failures;

        FlakyProducer(int failures) {
            super(true, null, new StringSerializer(), new ByteArraySerializer());
            this.failures = failures;
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            if (failures > 0) {
                failures--;
                return CompletableFuture.failedFuture(new TimeoutException("broker gone"));
            }
            return super.send(record, callback);
        }
    }

    @Test
    void aPublishThatIsNotAcknowledgedIsRetriedFromTheCommittedOffsetsWithStateRebuilt() {
        FlakyProducer flaky = new FlakyProducer(1);
        MockConsumer<String, byte[]> first = consumerWith("a", "b");
        MockConsumer<String, byte[]> second = new MockConsumer<>("earliest");
        List<WorkerState> seenWhileRetrying = new ArrayList<>();
        EchoWorker[] worker = new EchoWorker[1];
        second.schedulePollTask(() -> seenWhileRetrying.add(worker[0].workerState()));
        second.updateBeginningOffsets(Map.of(P0, 0L));
        second.updateEndOffsets(Map.of(P0, 2L));
        second.schedulePollTask(() -> {
            second.rebalance(List.of(P0));
            second.addRecord(new ConsumerRecord<>(IN, 0, 0, "k0", "a".getBytes(StandardCharsets.UTF_8)));
            second.addRecord(new ConsumerRecord<>(IN, 0, 1, "k1", "b".getBytes(StandardCharsets.UTF_8)));
        });
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        second.schedulePollTask(() -> {
            committed.putAll(second.committed(Set.of(P0)));
            worker[0].stop();
        });
        consumers.add(first);
        consumers.add(second);
        worker[0] = new EchoWorker(new StageContext(
                "echo-service",
                "echo",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(flaky, Duration.ofSeconds(5)),
                config -> consumers.removeFirst(),
                Duration.ofMillis(1)));

        worker[0].run();

        assertThat(seenWhileRetrying).singleElement().satisfies(state -> {
            assertThat(state.retrying()).isTrue();
            assertThat(state.failure()).contains("broker gone");
            assertThat(state.retries()).isEqualTo(1);
        });
        assertThat(worker[0].starts.get()).isEqualTo(2);
        assertThat(worker[0].counts().totals()).isEqualTo(Map.of("echoed", 2L)); // the failed poll was not counted
        // What was sent before the failure may be on the topic (at least once); all of it is sent again after it.
        assertThat(texts(flaky.history(), OUT)).endsWith("a (first output)", "a", "b (first output)", "b");
        assertThat(committed).containsEntry(P0, new OffsetAndMetadata(2));
        assertThat(worker[0].workerState().failure()).isNull();
    }

    /** Buffers every record and publishes them two at a time, holding each until its pair is out. */
    static class PairingWorker extends RecipeStreamWorker {
        private final List<InputOffset> buffered = new ArrayList<>();
        private final List<String> texts = new ArrayList<>();

        PairingWorker(StageContext context) {
            super(context, "r1", IN);
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            InputOffset input = InputOffset.of(record);
            watermark().hold(input.partition(), input.offset());
            buffered.add(input);
            texts.add(new String(record.value(), StandardCharsets.UTF_8));
            if (buffered.size() == 2) {
                out.send(new Outgoing(OUT, "pair", new Echo(1, String.join("+", texts))), List.copyOf(buffered));
                buffered.clear();
                texts.clear();
            }
        }
    }

    @Test
    void theCommitStaysBelowTheOldestBufferedInput() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b", "c");
        consumers.add(consumer);
        PairingWorker worker = new PairingWorker(context(Duration.ofSeconds(5)));
        Map<TopicPartition, OffsetAndMetadata> committed = stopAndKeepCommitted(consumer, worker);

        worker.run();

        assertThat(texts(producer.history(), OUT)).containsExactly("a+b");
        // "c" is buffered, not published: a restart must read it again.
        assertThat(committed).containsEntry(P0, new OffsetAndMetadata(2));
    }

    /** Remembers what was committed when the worker closed it. */
    static final class RecordingConsumer extends MockConsumer<String, byte[]> {
        final Map<TopicPartition, OffsetAndMetadata> committedAtClose = new HashMap<>();

        RecordingConsumer() {
            super("earliest");
        }

        @Override
        public synchronized void close() {
            committedAtClose.putAll(committed(Set.of(P0)));
            super.close();
        }
    }

    @Test
    void aRebalanceWhileInputsAreBufferedStartsOverWithoutCommittingPastThem() {
        RecordingConsumer first = new RecordingConsumer();
        first.updateBeginningOffsets(Map.of(P0, 0L));
        first.schedulePollTask(() -> {
            first.rebalance(List.of(P0));
            for (int i = 0; i < 3; i++) {
                first.addRecord(new ConsumerRecord<>(IN, 0, i, "k" + i, ("r" + i).getBytes(StandardCharsets.UTF_8)));
            }
        });
        // An eager rebalance: everything revoked, then the same partition assigned again, with a new record.
        first.schedulePollTask(() -> {
            first.rebalance(List.of());
            first.rebalance(List.of(P0));
            first.addRecord(new ConsumerRecord<>(IN, 0, 3, "k3", "r3".getBytes(StandardCharsets.UTF_8)));
        });
        MockConsumer<String, byte[]> second = new MockConsumer<>("earliest");
        consumers.add(first);
        consumers.add(second);
        PairingWorker worker = new PairingWorker(context(Duration.ofSeconds(5)));
        second.schedulePollTask(worker::stop);

        worker.run();

        // r0+r1 went out; r2 was buffered when the partition was revoked: the commit stays below it, r3 is not
        // handled by the old consumer, and the worker starts over on a new one.
        assertThat(texts(producer.history(), OUT)).containsExactly("r0+r1");
        assertThat(first.committedAtClose).containsEntry(P0, new OffsetAndMetadata(2));
        assertThat(used).containsExactly(first, second);
    }

    /** Echoes records and starts over, once, on the record "doubt": its state is in doubt, not the record. */
    static class DoubtingWorker extends EchoWorker {
        boolean doubted;
        final Map<TopicPartition, Long> positions;

        DoubtingWorker(StageContext context, Map<TopicPartition, Long> positions) {
            super(context);
            this.positions = positions;
        }

        @Override
        protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
            return positions;
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            String text = new String(record.value(), StandardCharsets.UTF_8);
            if (text.equals("doubt") && !doubted) {
                doubted = true;
                throw new StartOverException("gradients half accumulated", null);
            }
            out.send(new Outgoing(OUT, record.key(), new Echo(1, text)));
        }
    }

    @Test
    void aStartOverIsNoDeadLetterAndConsumptionResumesWhereTheStageSays() {
        MockConsumer<String, byte[]> first = consumerWith("a", "doubt", "b");
        MockConsumer<String, byte[]> second = consumerWith("a", "doubt", "b");
        consumers.add(first);
        consumers.add(second);
        // The stage's own positions (a checkpoint's offsets) win over the group's commits: offset 1 on.
        DoubtingWorker worker = new DoubtingWorker(context(Duration.ofSeconds(5)), Map.of(P0, 1L));
        second.schedulePollTask(worker::stop);

        worker.run();

        assertThat(texts(producer.history(), Topics.CONVERSATIONS_REJECTED)).isEmpty();
        assertThat(worker.starts.get()).isEqualTo(2);
        // Both sessions read from offset 1 ("a" never), the first gives up at "doubt" with nothing published, the
        // second handles "doubt" and "b" once.
        assertThat(texts(producer.history(), OUT)).containsExactly("doubt", "b");
        assertThat(worker.workerState().recordFailures()).isZero();
    }

    /** Echoes each record, and after "b" the first time, reads the partition again from offset 0 (an epoch). */
    static class RereadingWorker extends EchoWorker {
        boolean rewinding;
        boolean reread;

        RereadingWorker(StageContext context) {
            super(context);
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            if (rewinding) {
                return; // still this poll's records, from before the rewind
            }
            String text = new String(record.value(), StandardCharsets.UTF_8);
            out.send(new Outgoing(OUT, record.key(), new Echo(1, text)));
            if (text.equals("b") && !reread) {
                reread = true;
                rewinding = true;
                rewind(Map.of(P0, 0L));
            }
        }

        @Override
        protected void rewound() {
            rewinding = false;
        }
    }

    @Test
    void aRewindReadsThePartitionAgainOnceThePollsOutputIsOut() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b", "c");
        consumers.add(consumer);
        RereadingWorker worker = new RereadingWorker(context(Duration.ofSeconds(5)));
        consumer.schedulePollTask(() -> {
            // MockConsumer hands over what was added at or after the position: add the log again after the seek
            for (int i = 0; i < 3; i++) {
                consumer.addRecord(new ConsumerRecord<>(
                        IN, 0, i, "k" + i, new String[] {"a", "b", "c"}[i].getBytes(StandardCharsets.UTF_8)));
            }
        });
        Map<TopicPartition, OffsetAndMetadata> committed = stopAndKeepCommitted(consumer, worker);

        worker.run();

        assertThat(texts(producer.history(), OUT)).containsExactly("a", "b", "a", "b", "c");
        assertThat(committed).containsEntry(P0, new OffsetAndMetadata(3));
    }

    @Test
    void aWorkerThatAsksForTheEndReadsNothingAlreadyThere() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b", "c");
        consumers.add(consumer);
        DoubtingWorker worker = new DoubtingWorker(context(Duration.ofSeconds(5)), Map.of(P0, RecipeStreamWorker.END));
        long[] position = {-1};
        consumer.schedulePollTask(() -> {
            position[0] = consumer.position(P0);
            worker.stop();
        });

        worker.run();

        assertThat(texts(producer.history(), OUT)).isEmpty();
        assertThat(position[0]).isEqualTo(3);
    }

    /** Echoes, remembering the logging context (MDC) its thread had while it handled each record. */
    static final class ContextRecordingWorker extends EchoWorker {
        final List<Map<String, Object>> contexts = new CopyOnWriteArrayList<>();

        ContextRecordingWorker(StageContext context) {
            super(context);
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            contexts.add(Map.copyOf(MDC.getMap()));
            super.accept(record, out);
        }
    }

    @Test
    void theWorkersThreadLogsUnderItsRecipeWhileItHandlesRecordsAndNotAfterwards() throws InterruptedException {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b");
        consumers.add(consumer);
        ContextRecordingWorker worker = new ContextRecordingWorker(context(Duration.ofSeconds(5)));
        stopAndKeepCommitted(consumer, worker);
        Map<String, Object> afterwards = new HashMap<>();

        Thread thread = new Thread(
                () -> {
                    worker.run();
                    afterwards.putAll(MDC.getMap());
                },
                "echo-r1");
        thread.start();
        thread.join();

        // the console format prints %X{recipe}: every line the worker logs names the recipe it works for
        assertThat(worker.contexts).containsExactly(Map.of("recipe", "r1"), Map.of("recipe", "r1"));
        assertThat(afterwards).isEmpty();
    }

    @Test
    void aStageCanAddToWhatItsThreadLogsUnderOrLeaveTheRecipeOut() throws InterruptedException {
        MockConsumer<String, byte[]> trainer = consumerWith("a");
        MockConsumer<String, byte[]> reader = consumerWith("a");
        consumers.add(trainer);
        consumers.add(reader);
        ContextRecordingWorker run = new ContextRecordingWorker(context(Duration.ofSeconds(5)));
        run.logUnder("run", "run-7");
        stopAndKeepCommitted(trainer, run);
        ContextRecordingWorker allRecipes = new ContextRecordingWorker(context(Duration.ofSeconds(5)));
        allRecipes.logUnder("recipe", null);
        stopAndKeepCommitted(reader, allRecipes);

        Thread thread = new Thread(() -> {
            run.run();
            allRecipes.run();
        });
        thread.start();
        thread.join();

        assertThat(run.contexts).containsExactly(Map.of("recipe", "r1", "run", "run-7"));
        assertThat(allRecipes.contexts).containsExactly(Map.of());
    }
}
