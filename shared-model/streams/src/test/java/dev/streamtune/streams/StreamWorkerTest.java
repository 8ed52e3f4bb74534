package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Event;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.Test;

/**
 * A worker that reads for no recipe (ingest-service's raw door): the same loop as a recipe's worker, in the group
 * it names, logging under what it asks for and dead-lettering without a recipe. Run on the test's thread, each
 * scheduled poll task one step of the loop, as in {@link RecipeStreamWorkerTest}.
 */
class StreamWorkerTest {

    private static final String IN = "raw";
    private static final TopicPartition P0 = new TopicPartition(IN, 0);

    record Echo(int schemaVersion, String text) implements Event {}

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final List<Map<String, Object>> consumerConfigs = new ArrayList<>();

    private StageContext context(MockConsumer<String, byte[]> consumer) {
        return new StageContext(
                "door-service",
                "door",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                config -> {
                    consumerConfigs.add(config);
                    return consumer;
                },
                Duration.ofMillis(1));
    }

    /** Echoes each record to "out", remembering its thread's logging context; "poison" cannot be handled. */
    static class DoorWorker extends StreamWorker {
        final List<Map<String, Object>> contexts = new CopyOnWriteArrayList<>();

        DoorWorker(StageContext context) {
            super(context, "raw-door", "door-service", IN);
            logUnder("door", "topic");
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            contexts.add(Map.copyOf(MDC.getMap()));
            String text = new String(record.value(), StandardCharsets.UTF_8);
            if (text.startsWith("poison")) {
                throw new IllegalArgumentException("expected no poison, found '" + text + "'");
            }
            if (text.startsWith("deep")) {
                descend(text.length()); // as a recursive reader of a deeply nested record would
            }
            out.send(new Outgoing("out", record.key(), new Echo(1, text)));
        }
    }

    private static int descend(int depth) {
        return descend(depth + 1) + 1;
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

    @Test
    void aWorkerForNoRecipeReadsInTheGroupItNamesAndLogsUnderWhatItAsksOnly() throws InterruptedException {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b");
        DoorWorker worker = new DoorWorker(context(consumer));
        consumer.schedulePollTask(worker::stop);

        Thread thread = new Thread(worker, "door");
        thread.start();
        thread.join();

        assertThat(consumerConfigs).singleElement().satisfies(config -> {
            assertThat(config).containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "door-service");
            assertThat(config).containsEntry(ConsumerConfig.CLIENT_ID_CONFIG, "door-service-raw-door");
        });
        assertThat(worker.contexts).containsExactly(Map.of("door", "topic"), Map.of("door", "topic"));
        assertThat(worker.workerState().worker()).isEqualTo("raw-door");
        assertThat(worker.awaitStopped(Duration.ZERO)).isTrue();
    }

    @Test
    void startingOverAfterAPublishThatWasNotAcknowledgedWaitsUntilWhatItSentHasSettled() {
        MockProducer<String, byte[]> slow =
                new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
        Deque<MockConsumer<String, byte[]>> consumers =
                new ArrayDeque<>(List.of(consumerWith("a"), new MockConsumer<>("earliest")));
        StageContext context = new StageContext(
                "door-service",
                "door",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(slow, Duration.ofMillis(20)),
                config -> consumers.pop(),
                Duration.ofMillis(1));
        List<Boolean> inFlightAtStart = new ArrayList<>();
        DoorWorker worker = new DoorWorker(context) {
            @Override
            protected void starting() {
                // A record of an earlier attempt still in flight could land after this attempt read back its state.
                inFlightAtStart.add(slow.completeNext());
                if (inFlightAtStart.size() == 2) {
                    stop();
                }
            }
        };

        worker.run();

        assertThat(inFlightAtStart).containsExactly(false, false);
        assertThat(slow.history())
                .singleElement()
                .satisfies(sent -> assertThat(sent.topic()).isEqualTo("out"));
        assertThat(worker.workerState().retries()).isEqualTo(1);
    }

    @Test
    void aRecordThatFailsIsADeadLetterNamingNoRecipe() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "poison pill");
        DoorWorker worker = new DoorWorker(context(consumer));
        consumer.schedulePollTask(worker::stop);

        worker.run();

        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        assertThat(producer.history().stream()
                        .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                        .map(r -> letters.deserialize(r.topic(), r.value())))
                .singleElement()
                .satisfies(letter -> {
                    assertThat(letter.reason())
                            .isEqualTo("raw-0@1 (key k1) could not be processed by door: expected"
                                    + " no poison, found 'poison pill'");
                    assertThat(letter.recipeId()).isNull();
                    assertThat(letter.stage()).isEqualTo("door");
                });
        assertThat(worker.workerState().recordFailures()).isEqualTo(1);
        assertThat(worker.workerState().summary())
                .isEqualTo("stopped, lag 0, 1 records dead-lettered, last: "
                        + "raw-0@1 (key k1) could not be processed by door: expected no poison, found 'poison pill'");
    }

    @Test
    void aRecordThatOverflowsTheStackIsADeadLetterAndTheWorkerGoesOn() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "deep record", "b");
        DoorWorker worker = new DoorWorker(context(consumer));
        consumer.schedulePollTask(worker::stop);

        worker.run();

        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        assertThat(producer.history().stream()
                        .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                        .map(r -> letters.deserialize(r.topic(), r.value())))
                .singleElement()
                .satisfies(letter -> assertThat(letter.reason())
                        .startsWith("raw-0@1 (key k1) could not be processed by door: ")
                        .contains("overflowed the stack"));
        assertThat(producer.history().stream().filter(r -> r.topic().equals("out")))
                .extracting(r -> r.key())
                .containsExactly("k0", "k2");
        assertThat(worker.workerState().recordFailures()).isEqualTo(1);
    }

    @Test
    void theLagGaugeOfAWorkerForNoRecipeIsTaggedWithItsStageAndFollowsItsPolls() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "b", "c");
        DoorWorker worker = new DoorWorker(context(consumer));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StageMetrics.bind(registry, worker);
        double[] seen = new double[1];
        consumer.schedulePollTask(() -> {
            seen[0] = registry.get("stage_lag_records")
                    .tag("stage", "door")
                    .gauge()
                    .value();
            consumer.updateEndOffsets(Map.of(P0, 5L)); // two more records arrive, not yet read
        });
        consumer.schedulePollTask(worker::stop);
        double before =
                registry.get("stage_lag_records").tag("stage", "door").gauge().value();

        worker.run();

        assertThat(before).isNaN(); // no poll yet: unknown, not zero
        assertThat(seen[0]).isZero();
        assertThat(registry.get("stage_lag_records").gauge().value()).isEqualTo(2);
    }

    @Test
    void aRetryingWorkersSummarySaysWhyAndHowOften() {
        WorkerState state = new WorkerState("raw-door", StreamWorker.State.RETRYING, "broker gone", 3, 0, null, 12);

        assertThat(state.summary())
                .isEqualTo("infrastructure failure, retrying from the committed offsets (3 retries): broker gone");
    }
}
