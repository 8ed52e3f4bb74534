package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * What a worker produces from one poll: records to publish, and for each the holds on its inputs that its
 * acknowledgement releases. The framework publishes it all, waits for Kafka's acknowledgements, releases the holds
 * and only then moves the commit position.
 */
public final class Output {

    private final List<Outgoing> records = new ArrayList<>();
    private final List<InputOffset> releases = new ArrayList<>();
    private int deadLetters;
    private List<Acknowledged> acknowledged = List.of();

    /** A record of this output as Kafka acknowledged it: where it lies now. */
    public record Acknowledged(Outgoing record, int partition, long offset) {}

    /** Publishes {@code record}; nothing is held for it (its input is read in this same poll). */
    public void send(Outgoing record) {
        records.add(record);
    }

    /** Publishes {@code record}, and once acknowledged releases one hold on each of {@code inputs}. */
    public void send(Outgoing record, List<InputOffset> inputs) {
        records.add(record);
        releases.addAll(inputs);
    }

    public void deadLetter(DeadLetter letter) {
        records.add(Outgoing.deadLetter(letter));
        deadLetters++;
    }

    public List<Outgoing> records() {
        return records;
    }

    List<InputOffset> releases() {
        return releases;
    }

    public int deadLetters() {
        return deadLetters;
    }

    /**
     * Where each record went, in the order they were added; empty until the output was published (a stage reads it
     * in {@link StreamWorker#published}).
     */
    public List<Acknowledged> acknowledged() {
        return acknowledged;
    }

    void acknowledged(List<RecordMetadata> placed) {
        List<Acknowledged> list = new ArrayList<>(placed.size());
        for (int i = 0; i < placed.size(); i++) {
            list.add(new Acknowledged(
                    records.get(i), placed.get(i).partition(), placed.get(i).offset()));
        }
        acknowledged = List.copyOf(list);
    }

    public boolean isEmpty() {
        return records.isEmpty();
    }

    /** How much is in it: a mark to {@link #rollBack} to when the record being handled fails. */
    Mark mark() {
        return new Mark(records.size(), releases.size(), deadLetters);
    }

    void rollBack(Mark mark) {
        records.subList(mark.records, records.size()).clear();
        releases.subList(mark.releases, releases.size()).clear();
        deadLetters = mark.deadLetters;
    }

    record Mark(int records, int releases, int deadLetters) {}
}
