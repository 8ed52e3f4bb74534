package dev.streamtune.eval.worker;

import dev.streamtune.eval.checkpoint.CheckpointStatus;
import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.ScoredCheckpointRow;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.LogContext;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Records every checkpoint announced on {@code checkpoints}, of every recipe, as a pending row: one reader for the
 * whole topic (on the stage framework's worker, under the reader name {@value #READER}), because a checkpoint of a
 * recipe this service does not know must still become an error evaluation rather than go unread. Rows and the
 * reading's position are stored in one transaction and a restart seeks there; a checkpoint announced again (same
 * recipe and checksum) is a duplicate and is not scored twice. Scoring happens elsewhere ({@link Scorer}), so a
 * slow evaluation never holds the reading up.
 */
public final class CheckpointIntake extends RecipeStreamWorker {

    /** The reader's name: its consumer group is {@code <service>.checkpoints}, its position row is keyed by it. */
    public static final String READER = "checkpoints";

    /** A checksum as {@code CheckpointDigest} writes it. */
    private static final Pattern CHECKSUM = Pattern.compile("sha256:[0-9a-f]{64}");

    static final String RECEIVED = "received";
    static final String DUPLICATE = "duplicate";

    private final EvalStore store;
    private final Runnable wake;
    private final CheckpointEventDeserializer checkpoints = new CheckpointEventDeserializer();
    private final List<ScoredCheckpointRow> buffered = new ArrayList<>();
    private final Map<Integer, Long> next = new HashMap<>();
    /** This poll's announcements (recipe and checksum): once stored, the database remembers them, not the reader. */
    private final Set<String> seen = new HashSet<>();

    CheckpointIntake(StageContext context, EvalStore store, Runnable wake) {
        super(context, READER, Topics.CHECKPOINTS);
        logUnder(LogContext.RECIPE, null); // it reads every recipe's checkpoints: its lines are no one recipe's
        this.store = store;
        this.wake = wake;
    }

    @Override
    protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
        return store.seeks(READER, assigned);
    }

    @Override
    protected void starting() {
        buffered.clear();
        next.clear();
        seen.clear();
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        next.merge(record.partition(), record.offset() + 1, Math::max);
        CheckpointEvent event = checkpoints.deserialize(record.topic(), record.value());
        if (event == null) {
            return; // a tombstone: nothing announced
        }
        if (event.checksum() == null || !CHECKSUM.matcher(event.checksum()).matches()) {
            throw new IllegalArgumentException("field checksum: " + event.checksum() + " (expected sha256: and 64"
                    + " lower-case hex digits, as CheckpointDigest writes it)");
        }
        if (event.step() < 1) {
            throw new IllegalArgumentException("field step: " + event.step() + " (expected a step of training, >= 1)");
        }
        storable("recipeId", event.recipeId(), 100);
        storable("runId", event.runId(), 140);
        storable("location", event.location(), 2000);
        storable("format", event.format(), 32);
        if (!seen.add(event.recipeId() + " " + event.checksum()) || store.known(event.recipeId(), event.checksum())) {
            counts().count(DUPLICATE, null);
            return;
        }
        ScoredCheckpointRow row = new ScoredCheckpointRow();
        row.recipeId = event.recipeId();
        row.runId = event.runId();
        row.step = event.step();
        row.location = event.location();
        row.format = event.format();
        row.checksum = event.checksum();
        row.tokensSeen = event.tokensSeen();
        row.trainLoss = event.trainLoss();
        row.status = CheckpointStatus.PENDING;
        row.receivedAt = Instant.now();
        buffered.add(row);
        counts().count(RECEIVED, null);
    }

    /**
     * A value the checkpoint table keeps in a column of {@code length} characters. Longer, or holding a NUL (which
     * PostgreSQL refuses in any text), it is the announcement's problem, said here: the database would refuse it on
     * every try, and since a failure of the database makes the reader start over, it would be read again forever.
     */
    private static void storable(String field, String value, int length) {
        if (value == null) {
            return;
        }
        if (value.length() > length) {
            throw new IllegalArgumentException(
                    "field " + field + ": " + value.length() + " characters (expected at" + " most " + length + ")");
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("field " + field + ": holds a NUL character, which cannot be stored");
        }
    }

    /** The recipe a bad announcement is for is its key; the reader's own name means nothing to whoever reads it. */
    @Override
    protected DeadLetter deadLetterFor(ConsumerRecord<String, byte[]> record, RuntimeException failure) {
        InputOffset input = InputOffset.of(record);
        return DeadLetter.from(context().stage(), input.source())
                .recipe(record.key())
                .field(blamedField(failure))
                .reason(input.source().describe() + " (key " + record.key() + ") is not a checkpoint announcement"
                        + " eval-service can use: "
                        + (failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage()))
                .payload(record.value())
                .build();
    }

    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        if (!buffered.isEmpty() || !next.isEmpty()) {
            store.recordCheckpoints(List.copyOf(buffered), Map.copyOf(next), READER, Topics.CHECKPOINTS);
            boolean arrived = !buffered.isEmpty();
            buffered.clear();
            next.clear();
            seen.clear();
            if (arrived) {
                wake.run();
            }
        }
    }
}
