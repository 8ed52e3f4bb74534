package dev.streamtune.eval.watch;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicTail;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Every stage's dead letters ({@code conversations-rejected}, followed from its beginning), counted by stage, recipe,
 * dataset and reason, with the first record of each: a thousand records refused for one reason are one row. The
 * reason is grouped by its {@link ReasonTemplate} (without what names the single record), so that rows say why, not
 * which. Memory is bounded over an unbounded stream: at most {@link #MAX_GROUPS} groups are kept; dead letters of
 * further kinds are counted in one overflow row, shown with every recipe's, so every dead letter is still counted.
 */
@ApplicationScoped
public class DeadLetterTally {

    /** One reason of one stage, for one recipe (null before formatting) and dataset. */
    public record Group(
            String stage,
            String recipeId,
            String dataset,
            String reason,
            String field,
            long count,
            String firstSource,
            String firstReason) {}

    /** Kinds of failure kept apart; a stream that produces more is mis-reporting, and the rest share one row. */
    static final int MAX_GROUPS = 1_000;

    /** The reason of a stage's overflow row. */
    static final String OTHER_REASONS = "other reasons (more than " + MAX_GROUPS + " kinds of dead letter)";

    private record Key(String stage, String recipeId, String dataset, String reason, String field) {}

    private static final Key OVERFLOW = new Key("any", null, null, OTHER_REASONS, null);

    private static final class Tally {
        final String firstSource;
        final String firstReason;
        final AtomicLong count = new AtomicLong();

        Tally(String firstSource, String firstReason) {
            this.firstSource = firstSource;
            this.firstReason = firstReason;
        }
    }

    private final Map<String, Object> kafka;

    private final DeadLetterDeserializer deadLetters = new DeadLetterDeserializer();
    private final Map<Key, Tally> tallies = new ConcurrentHashMap<>();
    /** Per partition, the offset after the last record counted: the tail reads again from the beginning after a failure. */
    private final Map<Integer, Long> counted = new ConcurrentHashMap<>();

    private volatile long unreadable;
    private TopicTail tail;

    public DeadLetterTally(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
    }

    void onStart(@Observes StartupEvent event) {
        tail = TopicTail.start(
                new KafkaSettings(kafka), "eval-service-dead-letters", Topics.CONVERSATIONS_REJECTED, this::count);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (tail != null) {
            tail.close();
        }
    }

    void count(ConsumerRecord<String, byte[]> record) {
        if (record.offset() < counted.getOrDefault(record.partition(), 0L)) {
            return; // counted before the tail started over
        }
        counted.put(record.partition(), record.offset() + 1);
        DeadLetter letter;
        try {
            letter = deadLetters.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            unreadable++;
            return;
        }
        if (letter == null) {
            return;
        }
        String source = letter.source() == null
                ? record.topic() + "-" + record.partition() + "@" + record.offset()
                : letter.source().describe();
        Key key = new Key(
                letter.stage(),
                letter.recipeId(),
                letter.dataset(),
                ReasonTemplate.of(letter.reason()),
                letter.field());
        Tally tally = tallies.get(key);
        if (tally == null && tallies.size() >= MAX_GROUPS) {
            key = OVERFLOW;
        }
        tallies.computeIfAbsent(key, k -> new Tally(source, letter.reason()))
                .count
                .incrementAndGet();
    }

    /**
     * The groups that concern a recipe: its own (formatting onwards) and, before any recipe, those of the datasets
     * it trains on (all of them when it names none); the largest first.
     */
    public List<Group> of(String recipeId, Set<String> datasets) {
        List<Group> groups = new ArrayList<>();
        tallies.forEach((key, tally) -> {
            boolean mine = OVERFLOW.equals(key)
                    || Objects.equals(key.recipeId(), recipeId)
                    || key.recipeId() == null && (datasets.isEmpty() || datasets.contains(key.dataset()));
            if (mine) {
                groups.add(new Group(
                        key.stage(),
                        key.recipeId(),
                        key.dataset(),
                        key.reason(),
                        key.field(),
                        tally.count.get(),
                        tally.firstSource,
                        tally.firstReason));
            }
        });
        groups.sort(Comparator.comparingLong(Group::count).reversed().thenComparing(Group::stage));
        return groups;
    }

    /** Records on the topic that are not dead letters this service can read. */
    public long unreadable() {
        return unreadable;
    }
}
