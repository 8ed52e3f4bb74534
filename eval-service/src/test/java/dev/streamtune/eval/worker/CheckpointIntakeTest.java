package dev.streamtune.eval.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.ScoredCheckpointRow;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.StageContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * The checkpoints reader's loop against kafka-clients' mock consumer and producer, on the test's thread: each
 * scheduled poll task is one step of the loop, and the last one stops the reader, so no timing is involved.
 */
class CheckpointIntakeTest {

    private static final TopicPartition P0 = new TopicPartition(Topics.CHECKPOINTS, 0);
    private static final String CHECKSUM = "sha256:" + "ab".repeat(32);

    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final Deque<MockConsumer<String, byte[]>> consumers = new ArrayDeque<>();
    private final StageContext context = new StageContext(
            EvalStage.INTAKE,
            EvalStage.STAGE,
            KafkaSettings.bootstrap("localhost:1"),
            new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
            config -> consumers.removeFirst(),
            Duration.ofMillis(1));

    /**
     * The database in memory, except that {@link #known} fails the first {@code failures} times as it does when the
     * connection to PostgreSQL is lost (the server restarted, the connection terminated): its transaction raising
     * what Hibernate raises then, through EvalStore's own handling of its transactions.
     */
    static final class FailingDatabase extends EvalStore {
        final List<ScoredCheckpointRow> recorded = new ArrayList<>();
        final Map<Integer, Long> positions = new HashMap<>();
        private int failures;

        FailingDatabase(int failures) {
            super(work -> {
                throw new JDBCConnectionException(
                        "JDBC exception executing SQL [An I/O error occurred while sending" + " to the backend.]",
                        new PSQLException(
                                "An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE));
            });
            this.failures = failures;
        }

        @Override
        public boolean known(String recipeId, String checksum) {
            if (failures > 0) {
                failures--;
                return super.known(recipeId, checksum);
            }
            return recorded.stream().anyMatch(row -> row.recipeId.equals(recipeId) && row.checksum.equals(checksum));
        }

        @Override
        public Map<TopicPartition, Long> seeks(String reader, Collection<TopicPartition> assigned) {
            Map<TopicPartition, Long> seeks = new HashMap<>();
            positions.forEach(
                    (partition, position) -> seeks.put(new TopicPartition(Topics.CHECKPOINTS, partition), position));
            return seeks;
        }

        @Override
        public void recordCheckpoints(
                List<ScoredCheckpointRow> rows, Map<Integer, Long> next, String reader, String topic) {
            recorded.addAll(rows);
            positions.putAll(next);
        }
    }

    private static ConsumerRecord<String, byte[]> announcement(
            long offset, String recipeId, long step, String checksum) {
        return announcement(
                offset,
                recipeId,
                recipeId + "-run",
                step,
                checksum,
                "file:/checkpoints/" + recipeId + "/checkpoint-" + step);
    }

    private static ConsumerRecord<String, byte[]> announcement(
            long offset, String recipeId, String runId, long step, String checksum, String location) {
        CheckpointEvent event = new CheckpointEvent(
                CheckpointEvent.SCHEMA_VERSION,
                recipeId,
                runId,
                step,
                step * 100,
                2.0,
                location,
                "peft-lora",
                checksum,
                Map.of(0, step),
                Instant.parse("2025-01-01T00:00:00Z"));
        return new ConsumerRecord<>(
                Topics.CHECKPOINTS, 0, offset, recipeId, new EventSerializer<>().serialize(Topics.CHECKPOINTS, event));
    }

    /** A consumer that is assigned the partition and hands over these records on its first poll. */
    private static MockConsumer<String, byte[]> consumerWith(List<ConsumerRecord<String, byte[]>> records) {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, (long) records.size()));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P0));
            records.forEach(consumer::addRecord);
        });
        return consumer;
    }

    private List<ProducerRecord<String, byte[]>> deadLetters() {
        return producer.history().stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .toList();
    }

    @Test
    void aDatabaseThatFailsWhileAnAnnouncementIsReadIsStartedOverNeverADeadLetter() {
        List<ConsumerRecord<String, byte[]>> topic = List.of(announcement(0, "r1", 10, CHECKSUM));
        MockConsumer<String, byte[]> first = consumerWith(topic);
        MockConsumer<String, byte[]> second = consumerWith(topic);
        consumers.add(first);
        consumers.add(second);
        FailingDatabase database = new FailingDatabase(1);
        AtomicInteger wakes = new AtomicInteger();
        CheckpointIntake intake = new CheckpointIntake(context, database, wakes::incrementAndGet);
        first.schedulePollTask(intake::stop); // polled again only by a reader that did not start over
        second.schedulePollTask(intake::stop);

        intake.run();

        assertThat(deadLetters()).isEmpty();
        assertThat(database.recorded).singleElement().satisfies(row -> {
            assertThat(row.recipeId).isEqualTo("r1");
            assertThat(row.checksum).isEqualTo(CHECKSUM);
            assertThat(row.step).isEqualTo(10);
        });
        assertThat(database.positions).containsEntry(0, 1L);
        assertThat(intake.workerState().retries()).isEqualTo(1);
        assertThat(intake.workerState().recordFailures()).isZero();
        assertThat(intake.counts().totals()).isEqualTo(Map.of(CheckpointIntake.RECEIVED, 1L));
        assertThat(wakes.get()).isEqualTo(1);
    }

    /**
     * An announcement cut mid-way (its producer died while writing it) and one of a schema version this service does
     * not read are dead letters naming the record and what was expected, never retried; the announcement after them
     * is recorded, and the books balance: read = received + duplicate + rejected.
     */
    @Test
    void aTruncatedAnnouncementAndOneOfAnotherSchemaVersionAreDeadLettersAndTheNextIsRecorded() {
        byte[] whole = announcement(0, "r1", 10, CHECKSUM).value();
        String json = new String(whole, StandardCharsets.UTF_8);
        assertThat(json).contains("\"schemaVersion\":" + CheckpointEvent.SCHEMA_VERSION + ",");
        byte[] newer = json.replaceFirst("\"schemaVersion\":\\d+,", "\"schemaVersion\":99,")
                .getBytes(StandardCharsets.UTF_8);
        MockConsumer<String, byte[]> consumer = consumerWith(List.of(
                new ConsumerRecord<>(Topics.CHECKPOINTS, 0, 0, "r1", Arrays.copyOf(whole, whole.length / 2)),
                new ConsumerRecord<>(Topics.CHECKPOINTS, 0, 1, "r1", newer),
                announcement(2, "r1", 20, "sha256:" + "cd".repeat(32))));
        consumers.add(consumer);
        FailingDatabase database = new FailingDatabase(0);
        CheckpointIntake intake = new CheckpointIntake(context, database, () -> {});
        consumer.schedulePollTask(intake::stop);

        intake.run();

        List<DeadLetter> letters = deadLetters().stream()
                .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                .toList();
        assertThat(letters).extracting(DeadLetter::key).containsExactly("checkpoints-0@0", "checkpoints-0@1");
        assertThat(letters.get(0).reason()).contains("checkpoints-0@0", "invalid JSON", "end-of-input");
        assertThat(letters.get(1).field()).isEqualTo("schemaVersion");
        assertThat(letters.get(1).reason())
                .contains(
                        "checkpoints-0@1",
                        "has schemaVersion 99 but this consumer reads schemaVersion " + CheckpointEvent.SCHEMA_VERSION);
        assertThat(database.recorded).extracting(row -> row.step).containsExactly(20L);
        assertThat(database.positions).containsEntry(0, 3L);
        assertThat(intake.counts().totals())
                .isEqualTo(Map.of(CheckpointIntake.RECEIVED, 1L, CheckpointIntake.REJECTED, 2L));
        assertThat(intake.workerState().retries()).isZero();
    }

    /**
     * Values the checkpoint table cannot hold are the announcement's problem, said before the database refuses them:
     * since a failure of the database starts the reading over, an announcement it refuses on every try would
     * otherwise be read again forever, and nothing after it would be.
     */
    @Test
    void anAnnouncementTheDatabaseCouldNotHoldIsADeadLetterAndTheNextIsRecorded() {
        MockConsumer<String, byte[]> consumer = consumerWith(List.of(
                announcement(0, "r1", "r1-" + "x".repeat(140), 10, CHECKSUM, "file:/checkpoints/r1/checkpoint-10"),
                announcement(1, "r1", "r1-run", 20, "sha256:" + "AB".repeat(32), "file:/checkpoints/r1/checkpoint-20"),
                announcement(2, "r1", "r1-run", 30, "sha256:" + "cd".repeat(32), "file:/checkpoints/r1/\0/30"),
                announcement(
                        3, "r1", "r1-run", 40, "sha256:" + "ef".repeat(32), "file:/checkpoints/r1/checkpoint-40")));
        consumers.add(consumer);
        FailingDatabase database = new FailingDatabase(0);
        CheckpointIntake intake = new CheckpointIntake(context, database, () -> {});
        consumer.schedulePollTask(intake::stop);

        intake.run();

        assertThat(deadLetters())
                .extracting(ProducerRecord::key)
                .containsExactly("checkpoints-0@0", "checkpoints-0@1", "checkpoints-0@2");
        assertThat(deadLetters())
                .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .satisfiesExactly(
                        reason -> assertThat(reason).contains("field runId: 143 characters (expected at most 140)"),
                        reason -> assertThat(reason).contains("field checksum"),
                        reason -> assertThat(reason).contains("field location: holds a NUL character"));
        assertThat(database.recorded).extracting(row -> row.step).containsExactly(40L);
        assertThat(database.positions).containsEntry(0, 4L);
        assertThat(intake.workerState().retries()).isZero();
    }

    /**
     * The reader remembers announcements only until they are stored: after that the database is the memory (a
     * checkpoint the store no longer holds, as after its recipe's rows were deleted, is new again), so the reader's
     * memory is one poll's worth over a stream of any length. Within a poll a repeat is still a duplicate.
     */
    @Test
    void announcementsAreRememberedByTheDatabaseOnceStoredNotByTheReader() {
        String other = "sha256:" + "cd".repeat(32);
        MockConsumer<String, byte[]> consumer =
                consumerWith(List.of(announcement(0, "r1", 10, CHECKSUM), announcement(1, "r1", 10, CHECKSUM)));
        consumers.add(consumer);
        FailingDatabase database = new FailingDatabase(0);
        CheckpointIntake intake = new CheckpointIntake(context, database, () -> {});
        consumer.schedulePollTask(() -> {
            database.recorded.clear(); // the store forgets what it held
            consumer.addRecord(announcement(2, "r1", 10, CHECKSUM));
            consumer.addRecord(announcement(3, "r1", 20, other));
        });
        consumer.schedulePollTask(intake::stop);

        intake.run();

        assertThat(database.recorded).extracting(row -> row.checksum).containsExactly(CHECKSUM, other);
        assertThat(intake.counts().totals())
                .isEqualTo(Map.of(CheckpointIntake.RECEIVED, 3L, CheckpointIntake.DUPLICATE, 1L));
    }
}
