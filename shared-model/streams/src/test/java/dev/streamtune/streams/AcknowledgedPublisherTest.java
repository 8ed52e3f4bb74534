package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Event;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A record too large for Kafka is its own failure, never a retried {@link PublishException}. */
class AcknowledgedPublisherTest {

    private static final int LIMIT = 1000;

    record Note(int schemaVersion, String text) implements Event {}

    /** Acknowledges everything but what {@code refuse} names, which fails as the producer reports it. */
    static final class Broker extends MockProducer<String, byte[]> {
        private final RuntimeException refusal;

        Broker(RuntimeException refusal) {
            super(true, null, new StringSerializer(), new ByteArraySerializer());
            this.refusal = refusal;
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            if (refusal != null && "refused".equals(record.key())) {
                return CompletableFuture.failedFuture(refusal);
            }
            return super.send(record, callback);
        }
    }

    private static Outgoing note(String key, int length) {
        return new Outgoing("notes", key, new Note(1, "x".repeat(length)));
    }

    @Test
    void aRecordOverTheMaximumSizeIsRefusedBeforeAnythingIsSentNamingItsSizeAndTheLimit() {
        Broker producer = new Broker(null);
        AcknowledgedPublisher publisher = new AcknowledgedPublisher(producer, Duration.ofSeconds(5), LIMIT);
        Outgoing big = note("big", 2000);
        byte[] value = publisher.serialize(big);

        assertThatThrownBy(() -> publisher.publish(List.of(note("small", 10), big)))
                .isInstanceOfSatisfying(OversizeRecordException.class, e -> {
                    assertThat(e.records()).singleElement().satisfies(oversize -> {
                        assertThat(oversize.record()).isSameAs(big);
                        assertThat(oversize.size()).isEqualTo(value.length + "big".length() + 82);
                        assertThat(oversize.limit()).isEqualTo(LIMIT);
                    });
                    assertThat(e.getMessage())
                            .isEqualTo("record for notes (key big) of " + String.format("%,d", value.length + 85)
                                    + " bytes exceeds the maximum record size of 1,000 bytes"
                                    + " (max.request.size / max.message.bytes)");
                });
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void aRecordTheBrokerRefusesForItsSizeIsAnOversizeRecordWhileTheOthersAreAcknowledged() {
        Broker producer = new Broker(new RecordTooLargeException("The message is 2000 bytes when serialized"));
        AcknowledgedPublisher publisher = new AcknowledgedPublisher(producer, Duration.ofSeconds(5), LIMIT);
        Outgoing refused = note("refused", 100);

        assertThatThrownBy(() -> publisher.publish(List.of(note("a", 10), refused, note("b", 10))))
                .isInstanceOfSatisfying(OversizeRecordException.class, e -> {
                    assertThat(e.records()).singleElement().satisfies(oversize -> {
                        assertThat(oversize.record()).isSameAs(refused);
                        assertThat(oversize.refusal()).isEqualTo("The message is 2000 bytes when serialized");
                    });
                    assertThat(e.getMessage()).contains("refused by Kafka as too large", "max.message.bytes");
                });
        assertThat(producer.history()).extracting(ProducerRecord::key).containsExactly("a", "b");
    }

    @Test
    void anyOtherRefusalIsStillAFailureOfKafkaToRetry() {
        Broker producer = new Broker(new KafkaException("not the leader"));
        AcknowledgedPublisher publisher = new AcknowledgedPublisher(producer, Duration.ofSeconds(5), LIMIT);

        assertThatThrownBy(() -> publisher.publish(note("refused", 10)))
                .isInstanceOf(PublishException.class)
                .hasMessageContaining("not the leader");
    }

    @Test
    void aDeadLetterTooLargeToPublishWholeIsCutToFitAndSaysSo() {
        Broker producer = new Broker(null);
        int limit = 64 * 1024;
        AcknowledgedPublisher publisher = new AcknowledgedPublisher(producer, Duration.ofSeconds(5), limit);
        byte[] payload = "y".repeat(200_000).getBytes(StandardCharsets.UTF_8);
        DeadLetter letter = DeadLetter.from("ingest", SourceRef.inTopic("conversations-raw", 0, 7))
                .reason("a record too long to understand")
                .payload(payload)
                .payloadLimit(payload.length)
                .build();

        publisher.publish(Outgoing.deadLetter(letter));

        assertThat(producer.history()).singleElement().satisfies(record -> {
            assertThat(record.value().length).isLessThanOrEqualTo(limit);
            DeadLetter sent = new DeadLetterDeserializer().deserialize(Topics.CONVERSATIONS_REJECTED, record.value());
            assertThat(sent.reason())
                    .isEqualTo("a record too long to understand (dead letter cut to fit the maximum record size of"
                            + " 65,536 bytes)");
            assertThat(sent.payload()).hasSize(DeadLetter.Builder.DEFAULT_PAYLOAD_LIMIT);
            assertThat(sent.payloadTruncated()).isTrue();
            assertThat(sent.payloadBytes()).isEqualTo(200_000);
        });
    }
}
