package dev.streamtune.streams;

import java.util.Collections;
import java.util.List;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Records too large for Kafka, refused before they were sent or by the broker: a fault of the records, not of the
 * infrastructure, so sending them again can never succeed. Unlike a {@link PublishException} it is not retried: the
 * caller dead-letters them ({@link StreamWorker} does) and goes on. The other records of the same publish were
 * acknowledged when the broker refused these; none was sent when the check before sending did.
 */
public final class OversizeRecordException extends RuntimeException {

    private final List<OversizeRecord> records;
    private final List<RecordMetadata> placed;

    /** Records refused before any was sent. */
    public OversizeRecordException(List<OversizeRecord> records) {
        this(records, List.of());
    }

    /** Records the broker refused; {@code placed} says where the others of the publish went (null: refused). */
    public OversizeRecordException(List<OversizeRecord> records, List<RecordMetadata> placed) {
        super(describe(records));
        this.records = List.copyOf(records);
        this.placed = Collections.unmodifiableList(placed); // nulls for the refused: List.copyOf would refuse them
    }

    public List<OversizeRecord> records() {
        return records;
    }

    /** Where Kafka put each record of the publish, in its order, null for those refused; empty when none was sent. */
    public List<RecordMetadata> placed() {
        return placed;
    }

    private static String describe(List<OversizeRecord> records) {
        String first = records.get(0).describe();
        return records.size() == 1 ? first : first + " (and " + (records.size() - 1) + " more records too large)";
    }
}
