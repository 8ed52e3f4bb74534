package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Event;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A record too large for Kafka is never retried: the worker checks what each input produced against the maximum
 * record size and dead-letters the input naming the size and the limit; an output of many inputs (or one the broker
 * refuses for its size) becomes a dead letter itself, its holds released; either way the worker goes on without
 * starting over. Run on the test's thread, each scheduled poll task one step of the loop.
 */
class OversizeRecordsTest {

    private static final String IN = "in";
    private static final TopicPartition P0 = new TopicPartition(IN, 0);
    /** Past the default maximum record size (8 MiB), whatever the serialisation adds. */
    private static final int HUGE = 9 * 1024 * 1024;

    record Echo(int schemaVersion, String text) implements Event {}

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());

    /** The worker under test: asked for a second consumer (it started over), it is stopped instead. */
    private final AtomicReference<StreamWorker> worker = new AtomicReference<>();
    /** The position committed on {@code P0} when the worker was stopped, -1 for none. */
    private long committedAtStop = -1;

    private StageContext context(MockConsumer<String, byte[]> consumer, Producer<String, byte[]> through) {
        AtomicInteger consumers = new AtomicInteger();
        return new StageContext(
                "echo-service",
                "echo",
                KafkaSettings.bootstrap("localhost:1"),
                new AcknowledgedPublisher(through, Duration.ofSeconds(5)),
                config -> {
                    if (consumers.incrementAndGet() > 1) {
                        worker.get().stop();
                    }
                    return consumer;
                },
                Duration.ofMillis(1));
    }

    private EchoWorker started(MockConsumer<String, byte[]> consumer, Producer<String, byte[]> through) {
        EchoWorker echo = new EchoWorker(context(consumer, through));
        worker.set(echo);
        consumer.schedulePollTask(() -> {
            OffsetAndMetadata offset = consumer.committed(Set.of(P0)).get(P0);
            committedAtStop = offset == null ? -1 : offset.offset();
            echo.stop();
        });
        return echo;
    }

    /** "big" echoes 9 MiB; "gather" sends one record made of every input held so far, holding each until then. */
    static final class EchoWorker extends StreamWorker {
        private final List<InputOffset> held = new ArrayList<>();
        /** Where each published record went, as the stage learns it. */
        final List<Output.Acknowledged> acknowledged = new ArrayList<>();

        private final StringBuilder gathered = new StringBuilder();

        EchoWorker(StageContext context) {
            super(context, "echo", "echo-service", IN);
        }

        @Override
        protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
            String text = new String(record.value(), StandardCharsets.UTF_8);
            switch (text) {
                case "big" -> out.send(new Outgoing("out", record.key(), new Echo(1, "x".repeat(HUGE))));
                case "hold" -> {
                    InputOffset input = InputOffset.of(record);
                    watermark().hold(input.partition(), input.offset());
                    held.add(input);
                    gathered.append("x".repeat(HUGE / 2));
                }
                case "gather" -> {
                    out.send(new Outgoing("out", "gathered", new Echo(1, gathered.toString())), List.copyOf(held));
                    held.clear();
                    gathered.setLength(0);
                }
                default -> out.send(new Outgoing("out", record.key(), new Echo(1, text)));
            }
        }

        @Override
        protected void published(Output out, Map<StageCounts.Key, Long> counted) {
            acknowledged.addAll(out.acknowledged());
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

    private static List<String> echoed(List<ProducerRecord<String, byte[]>> history) {
        return history.stream()
                .filter(r -> r.topic().equals("out"))
                .map(ProducerRecord::key)
                .toList();
    }

    private static List<DeadLetter> deadLetters(List<ProducerRecord<String, byte[]>> history) {
        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        return history.stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .map(r -> letters.deserialize(r.topic(), r.value()))
                .toList();
    }

    @Test
    void anInputWhoseOutputIsTooLargeIsADeadLetterNamingTheSizeAndTheLimitAndTheWorkerGoesOn() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "big", "b");
        EchoWorker worker = started(consumer, producer);

        worker.run();

        assertThat(echoed(producer.history())).containsExactly("k0", "k2");
        assertThat(deadLetters(producer.history())).singleElement().satisfies(letter -> {
            assertThat(letter.reason())
                    .startsWith("in-0@1 (key k1) could not be processed by echo: ")
                    .contains("record for out (key k1) of ")
                    .contains("exceeds the maximum record size of 8,388,608 bytes");
            assertThat(letter.payload()).isEqualTo("big");
        });
        assertThat(worker.workerState().retries()).isZero();
        assertThat(worker.workerState().recordFailures()).isEqualTo(1);
        assertThat(worker.counts().total(StreamWorker.REJECTED)).isEqualTo(1);
        assertThat(committedAtStop).isEqualTo(3);
    }

    @Test
    void anOutputOfManyInputsThatIsTooLargeIsADeadLetterAndItsInputsAreReleased() {
        MockConsumer<String, byte[]> consumer = consumerWith("hold", "hold", "hold", "gather", "after");
        EchoWorker worker = started(consumer, producer);

        worker.run();

        assertThat(echoed(producer.history())).containsExactly("k4");
        assertThat(deadLetters(producer.history())).singleElement().satisfies(letter -> {
            assertThat(letter.reason())
                    .contains("record for out (key gathered) of ")
                    .contains("exceeds the maximum record size of 8,388,608 bytes")
                    .contains("3 inputs");
            assertThat(letter.source().describe()).isEqualTo("in-0@0");
            assertThat(letter.payloadTruncated()).isTrue();
        });
        assertThat(worker.workerState().retries()).isZero();
        assertThat(committedAtStop).isEqualTo(5);
    }

    @Test
    void aRecordTheBrokerRefusesForItsSizeIsADeadLetterNotARetry() {
        MockConsumer<String, byte[]> consumer = consumerWith("a", "refused by the topic", "b");
        // A topic whose max.message.bytes is below the producer's max.request.size: the broker answers
        // MESSAGE_TOO_LARGE, which the producer reports as a RecordTooLargeException.
        Producer<String, byte[]> smallTopic =
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()) {
                    @Override
                    public synchronized Future<RecordMetadata> send(
                            ProducerRecord<String, byte[]> record, Callback callback) {
                        if (record.topic().equals("out") && record.value().length > 40) {
                            return CompletableFuture.failedFuture(new RecordTooLargeException(
                                    "The request included a message larger than the max message size the server will"
                                            + " accept."));
                        }
                        return producer.send(record, callback);
                    }
                };
        EchoWorker worker = started(consumer, smallTopic);

        worker.run();

        assertThat(echoed(producer.history())).containsExactly("k0", "k2");
        assertThat(deadLetters(producer.history())).singleElement().satisfies(letter -> {
            assertThat(letter.reason())
                    .contains("record for out (key k1) of ")
                    .contains("refused by Kafka as too large")
                    .contains("max.message.bytes");
            assertThat(letter.source().describe()).isEqualTo("in-0@1");
        });
        // The stage learns where each record went: the dead letter's place stands for the record refused.
        assertThat(worker.acknowledged)
                .extracting(acknowledged -> acknowledged.record().topic())
                .containsExactly("out", Topics.CONVERSATIONS_REJECTED, "out");
        assertThat(worker.workerState().retries()).isZero();
        assertThat(committedAtStop).isEqualTo(3);
    }
}
