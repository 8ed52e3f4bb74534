package dev.streamtune.streams;

import dev.streamtune.events.DeadLetter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * What a worker produces from one poll: records to publish, and for each the holds on its inputs that its
 * acknowledgement releases. The framework publishes it all, waits for Kafka's acknowledgements, releases the holds
 * and only then moves the commit position.
 */
public final class Output {

    private final List<Entry> entries = new ArrayList<>();
    private int deadLetters;
    /** The input being handled while records are added, or null (in {@code idle}, {@code endOfPoll}). */
    private InputOffset handling;

    private List<Acknowledged> acknowledged = List.of();

    /** A record of this output as Kafka acknowledged it: where it lies now. */
    public record Acknowledged(Outgoing record, int partition, long offset) {}

    /** A record, the holds its acknowledgement releases, the input it was made from, and its wire form once made. */
    static final class Entry {
        final Outgoing record;
        final List<InputOffset> releases;
        final InputOffset from;
        byte[] value;

        Entry(Outgoing record, List<InputOffset> releases, InputOffset from) {
            this.record = record;
            this.releases = releases;
            this.from = from;
        }

        /** Made of other inputs than the one being handled: it releases holds they left. */
        boolean gathersInputs() {
            return !releases.isEmpty();
        }
    }

    /** Publishes {@code record}; nothing is held for it (its input is read in this same poll). */
    public void send(Outgoing record) {
        entries.add(new Entry(record, List.of(), handling));
    }

    /** Publishes {@code record}, and once acknowledged releases one hold on each of {@code inputs}. */
    public void send(Outgoing record, List<InputOffset> inputs) {
        entries.add(new Entry(record, List.copyOf(inputs), handling));
    }

    public void deadLetter(DeadLetter letter) {
        entries.add(new Entry(Outgoing.deadLetter(letter), List.of(), handling));
        deadLetters++;
    }

    public List<Outgoing> records() {
        return entries.stream().map(entry -> entry.record).toList();
    }

    List<InputOffset> releases() {
        List<InputOffset> releases = new ArrayList<>();
        entries.forEach(entry -> releases.addAll(entry.releases));
        return releases;
    }

    public int deadLetters() {
        return deadLetters;
    }

    /**
     * Where each record went, in the order they were added (a record too large for Kafka: the dead letter sent in
     * its place); empty until the output was published (a stage reads it in {@link StreamWorker#published}).
     */
    public List<Acknowledged> acknowledged() {
        return acknowledged;
    }

    void acknowledged(List<RecordMetadata> placed) {
        List<Acknowledged> list = new ArrayList<>(placed.size());
        for (int i = 0; i < placed.size(); i++) {
            list.add(new Acknowledged(
                    entries.get(i).record,
                    placed.get(i).partition(),
                    placed.get(i).offset()));
        }
        acknowledged = List.copyOf(list);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    void handling(InputOffset input) {
        handling = input;
    }

    List<Entry> entries() {
        return entries;
    }

    /** The entries added since {@code mark}. */
    List<Entry> since(Mark mark) {
        return entries.subList(mark.records, entries.size());
    }

    /** Puts {@code letter} in the place of {@code entry}, keeping the holds it releases; answers the new entry. */
    Entry replace(Entry entry, DeadLetter letter) {
        Entry replacement = new Entry(Outgoing.deadLetter(letter), entry.releases, entry.from);
        entries.set(entries.indexOf(entry), replacement);
        deadLetters++;
        return replacement;
    }

    /** The wire forms the size check made, by record: what the publisher need not make again. */
    Function<Outgoing, byte[]> serialized() {
        Map<Outgoing, byte[]> values = new IdentityHashMap<>();
        for (Entry entry : entries) {
            if (entry.value != null) {
                values.put(entry.record, entry.value);
            }
        }
        return values::get;
    }

    /** How much is in it: a mark to {@link #rollBack} to when the record being handled fails. */
    Mark mark() {
        return new Mark(entries.size(), deadLetters);
    }

    void rollBack(Mark mark) {
        entries.subList(mark.records, entries.size()).clear();
        deadLetters = mark.deadLetters;
    }

    record Mark(int records, int deadLetters) {}
}
