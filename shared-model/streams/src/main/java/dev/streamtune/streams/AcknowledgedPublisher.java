package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Event;
import dev.streamtune.events.serde.EventSerializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * Publishes events and returns only once Kafka has acknowledged every one of them, so that a caller may then
 * commit the input they came from: nothing it reports as published can be lost.
 *
 * <p>All records of a call are sent before any acknowledgement is awaited, so they travel in as few requests as the
 * producer's batching allows; the producer is idempotent, so records with one key keep their order even when a
 * request is retried. One publisher (one producer) is shared by all the workers of a service: KafkaProducer is
 * thread-safe and batches across them.
 *
 * <p>A record larger than the maximum record size ({@link KafkaSettings#maxRecordSize()}) is never sent: sending it
 * again could never succeed, so it is an {@link OversizeRecordException}, not a {@link PublishException}, and so is
 * a record the broker refuses for its size (a topic whose {@code max.message.bytes} is below that). A dead letter
 * too large to publish whole is cut to fit instead, so that the record it reports is never lost with it.
 */
public final class AcknowledgedPublisher implements AutoCloseable {

    private final Producer<String, byte[]> producer;
    private final Duration timeout;
    private final int maxRecordSize;
    private final EventSerializer<Event> serializer = new EventSerializer<>();

    /** A publisher of records up to {@code maxRecordSize} bytes, the producer's {@code max.request.size}. */
    public AcknowledgedPublisher(Producer<String, byte[]> producer, Duration timeout, int maxRecordSize) {
        this.producer = producer;
        this.timeout = timeout;
        this.maxRecordSize = maxRecordSize;
    }

    /** A publisher of records up to {@link KafkaSettings#MAX_RECORD_BYTES}. */
    public AcknowledgedPublisher(Producer<String, byte[]> producer, Duration timeout) {
        this(producer, timeout, KafkaSettings.MAX_RECORD_BYTES);
    }

    public static AcknowledgedPublisher create(KafkaSettings kafka, String clientId, Duration timeout) {
        return new AcknowledgedPublisher(new KafkaProducer<>(kafka.producer(clientId)), timeout, kafka.maxRecordSize());
    }

    /** The largest record it sends, as {@link OversizeRecord#size} counts it. */
    public int maxRecordSize() {
        return maxRecordSize;
    }

    /**
     * {@code record} as it would be sent: its event serialised, a dead letter cut to fit the maximum record size.
     * Callers that check sizes before publishing pass the result back to {@link #publish(Collection, Function)}.
     */
    public byte[] serialize(Outgoing record) {
        byte[] value = serializer.serialize(record.topic(), record.event());
        if (record.event() instanceof DeadLetter letter && OversizeRecord.size(record, value) > maxRecordSize) {
            DeadLetter cut = letter.cut(
                    DeadLetter.Builder.DEFAULT_PAYLOAD_LIMIT,
                    " (dead letter cut to fit the maximum record size of " + OversizeRecord.bytes(maxRecordSize)
                            + " bytes)");
            value = serializer.serialize(record.topic(), cut);
        }
        return value;
    }

    /** The record's size problem, or null when it fits. */
    public OversizeRecord oversize(Outgoing record, byte[] value) {
        long size = OversizeRecord.size(record, value);
        return size > maxRecordSize ? new OversizeRecord(record, size, maxRecordSize, null) : null;
    }

    /**
     * Sends every record and waits for all acknowledgements; a {@link PublishException} when any is missing, an
     * {@link OversizeRecordException} when records are too large (none sent when the size check finds them).
     * Answers where Kafka put each record, in the order of {@code records}.
     */
    public List<RecordMetadata> publish(Collection<Outgoing> records) {
        return publish(records, record -> null);
    }

    /** As {@link #publish(Collection)}, with the values {@link #serialize} already made ({@code null}: not yet). */
    public List<RecordMetadata> publish(Collection<Outgoing> records, Function<Outgoing, byte[]> serialized) {
        if (records.isEmpty()) {
            return List.of();
        }
        List<Outgoing> sending = List.copyOf(records);
        List<byte[]> values = new ArrayList<>(sending.size());
        List<OversizeRecord> tooLarge = new ArrayList<>();
        for (Outgoing record : sending) {
            byte[] value = serialized.apply(record);
            if (value == null) {
                value = serialize(record);
            }
            values.add(value);
            OversizeRecord oversize = oversize(record, value);
            if (oversize != null) {
                tooLarge.add(oversize);
            }
        }
        if (!tooLarge.isEmpty()) {
            throw new OversizeRecordException(tooLarge);
        }
        List<Future<RecordMetadata>> acks = new ArrayList<>(sending.size());
        try {
            for (int i = 0; i < sending.size(); i++) {
                Outgoing record = sending.get(i);
                acks.add(producer.send(new ProducerRecord<>(record.topic(), record.key(), values.get(i))));
            }
        } catch (RuntimeException e) {
            throw new PublishException("cannot hand " + records.size() + " records to Kafka: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<OversizeRecord> refused = new ArrayList<>();
        List<RecordMetadata> placed = new ArrayList<>(acks.size());
        for (int i = 0; i < acks.size(); i++) {
            try {
                placed.add(acks.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RecordTooLargeException tooBig) {
                    // The broker's MESSAGE_TOO_LARGE: the topic accepts less than the producers send.
                    Outgoing record = sending.get(i);
                    refused.add(new OversizeRecord(
                            record, OversizeRecord.size(record, values.get(i)), maxRecordSize, tooBig.getMessage()));
                    placed.add(null);
                    continue;
                }
                throw new PublishException(
                        "Kafka refused a record: " + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new PublishException(
                        "Kafka did not acknowledge " + records.size() + " records within " + timeout, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PublishException("interrupted while waiting for Kafka's acknowledgements", e);
            }
        }
        if (!refused.isEmpty()) {
            throw new OversizeRecordException(refused, placed);
        }
        return placed;
    }

    public RecordMetadata publish(Outgoing record) {
        return publish(List.of(record)).get(0);
    }

    /**
     * Waits until every record handed to Kafka so far is acknowledged or has failed for good (at most the producer's
     * {@code delivery.timeout.ms}). A publish that gave up waiting leaves its records in flight, and Kafka may still
     * append them: a worker starting over reads back what its earlier attempt published (tokenize-service's batches),
     * and a record appended after that reading would be made a second time. Settling first closes that window.
     */
    public void settle() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
