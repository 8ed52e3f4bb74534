package dev.streamtune.eval.set;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where a reader of a topic stands (the next offset per partition), written in the same transaction as what it
 * read: a restarted reader seeks here, so a record is stored exactly once whatever the consumer group committed.
 */
@Entity
@Table(name = "read_position")
public class ReadPosition extends PanacheEntityBase {

    @EmbeddedId
    public Key key;

    @Column(name = "next_offset")
    public long nextOffset;

    @Embeddable
    public static class Key implements Serializable {
        public String reader;
        public String topic;
        public int partition;

        public Key() {}

        public Key(String reader, String topic, int partition) {
            this.reader = reader;
            this.topic = topic;
            this.partition = partition;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key
                    && key.partition == partition
                    && key.reader.equals(reader)
                    && key.topic.equals(topic);
        }

        @Override
        public int hashCode() {
            return Objects.hash(reader, topic, partition);
        }
    }

    /** The reader's positions on {@code topic}, by partition. */
    public static Map<Integer, Long> of(String reader, String topic) {
        Map<Integer, Long> positions = new HashMap<>();
        ReadPosition.<ReadPosition>list("key.reader = ?1 and key.topic = ?2", reader, topic)
                .forEach(position -> positions.put(position.key.partition, position.nextOffset));
        return positions;
    }

    /** Moves the reader to these positions (never back). */
    public static void advance(String reader, String topic, Map<Integer, Long> next) {
        next.forEach((partition, offset) -> {
            Key key = new Key(reader, topic, partition);
            ReadPosition position = findById(key);
            if (position == null) {
                position = new ReadPosition();
                position.key = key;
                position.nextOffset = offset;
                position.persist();
            } else if (offset > position.nextOffset) {
                position.nextOffset = offset;
            }
        });
    }
}
