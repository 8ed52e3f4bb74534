package dev.streamtune.streams;

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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes events and returns only once Kafka has acknowledged every one of them, so that a caller may then
 * commit the input they came from: nothing it reports as published can be lost.
 *
 * <p>All records of a call are sent before any acknowledgement is awaited, so they travel in as few requests as the
 * producer's batching allows; the producer is idempotent, so records with one key keep their order even when a
 * request is retried. One publisher (one producer) is shared by all the workers of a service: KafkaProducer is
 * thread-safe and batches across them.
 */
public final class AcknowledgedPublisher implements AutoCloseable {

    private final Producer<String, byte[]> producer;
    private final Duration timeout;
    private final EventSerializer<Event> serializer = new EventSerializer<>();

    public AcknowledgedPublisher(Producer<String, byte[]> producer, Duration timeout) {
        this.producer = producer;
        this.timeout = timeout;
    }

    public static AcknowledgedPublisher create(KafkaSettings kafka, String clientId, Duration timeout) {
        return new AcknowledgedPublisher(new KafkaProducer<>(kafka.producer(clientId)), timeout);
    }

    /**
     * Sends every record and waits for all acknowledgements; a {@link PublishException} when any is missing. Answers
     * where Kafka put each record, in the order of {@code records}.
     */
    public List<RecordMetadata> publish(Collection<Outgoing> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
        try {
            for (Outgoing record : records) {
                byte[] value = serializer.serialize(record.topic(), record.event());
                acks.add(producer.send(new ProducerRecord<>(record.topic(), record.key(), value)));
            }
        } catch (RuntimeException e) {
            throw new PublishException("cannot hand " + records.size() + " records to Kafka: " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<RecordMetadata> placed = new ArrayList<>(acks.size());
        for (Future<RecordMetadata> ack : acks) {
            try {
                placed.add(ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
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
        return placed;
    }

    public RecordMetadata publish(Outgoing record) {
        return publish(List.of(record)).get(0);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
