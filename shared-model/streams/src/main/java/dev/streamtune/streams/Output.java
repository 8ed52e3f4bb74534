package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import java.util.ArrayList;
import java.util.List;

/**
 * What a worker produces from one poll: records to publish, and for each the holds on its inputs that its
 * acknowledgement releases. The framework publishes it all, waits for Kafka's acknowledgements, releases the holds
 * and only then moves the commit position.
 */
public final class Output {

    private final List<Outgoing> records = new ArrayList<>();
    private final List<InputOffset> releases = new ArrayList<>();
    private int deadLetters;

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
