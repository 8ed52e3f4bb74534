package dev.streamtune.trainer.worker;

import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EvaluationDeserializer;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.TopicTail;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * eval-service's verdicts fed back into training: reads {@code evaluations} (every instance the whole topic, from
 * its beginning, as the evaluations are few), records each one of a known run (one that carries an error, a
 * checkpoint eval-service could not score, too: its checkpoint's evaluation has arrived), keeps the run's best
 * checkpoint (the lowest validation loss, which {@code save_total_limit} never deletes), and ends a run this
 * instance trains when its recipe's early stopping says so ({@code early_stopping_patience},
 * {@code early_stopping_threshold}). A record it cannot use (unreadable, of a run this trainer does not know, or
 * one the run store could not keep) is passed over with a line saying why, and counted by outcome in
 * {@code trainer_evaluations_total}.
 */
@ApplicationScoped
public class EvaluationFeed {

    private static final Logger LOG = Logger.getLogger(EvaluationFeed.class);

    /** The outcomes under which the feed counts what it reads: read = recorded + unknown run + unreadable + tombstone. */
    static final String RECORDED = "recorded";

    static final String UNKNOWN_RUN = "unknown_run";
    static final String UNREADABLE = "unreadable";
    static final String TOMBSTONE = "tombstone";

    /** The times PostgreSQL's timestamps hold, with room to spare. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");

    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private final TrainerStage stage;
    private final RunStore runs;
    private final TrainerMetrics metrics;
    private final Map<String, Object> kafka;

    private final EvaluationDeserializer evaluations = new EvaluationDeserializer();
    private TopicTail tail;

    public EvaluationFeed(
            TrainerStage stage,
            RunStore runs,
            TrainerMetrics metrics,
            @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.stage = stage;
        this.runs = runs;
        this.metrics = metrics;
        this.kafka = kafka;
    }

    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 10) StartupEvent event) {
        tail = TopicTail.start(
                new KafkaSettings(kafka), TrainerStage.SERVICE + "-evaluations", Topics.EVALUATIONS, this::apply);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (tail != null) {
            tail.close();
        }
    }

    void apply(ConsumerRecord<String, byte[]> record) {
        Evaluation evaluation;
        try {
            evaluation = evaluations.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            passOver(record, UNREADABLE, "is not an evaluation this trainer can read: " + e.getMessage());
            return;
        }
        if (evaluation == null) {
            metrics.evaluation(TOMBSTONE);
            return;
        }
        String unstorable = unstorable(evaluation);
        if (unstorable != null) {
            passOver(record, UNREADABLE, "cannot be recorded: " + unstorable);
            return;
        }
        Optional<List<EarlyStopping.Score>> scores = runs.evaluation(evaluation);
        if (scores.isEmpty()) {
            passOver(
                    record,
                    UNKNOWN_RUN,
                    "is an evaluation of run " + evaluation.runId() + " (recipe " + evaluation.recipeId() + ", step "
                            + evaluation.checkpointStep() + "), which this trainer does not know");
            return;
        }
        metrics.evaluation(RECORDED);
        TrainWorker worker = stage.workerOf(evaluation.runId());
        if (worker == null) {
            return; // not trained by this instance (its own instance decides)
        }
        if (evaluation.scored()) {
            worker.judge(scores.get());
        } else {
            worker.evaluationArrived(); // says nothing of progress, but its checkpoint may now be rotated away
        }
    }

    /**
     * What the run store could never keep of an evaluation, said before it refuses it: a refusal of the store is taken
     * for its failure, which makes the feed read the topic again from its beginning, so such a record would be read
     * again for ever and every evaluation after it never applied.
     */
    private static String unstorable(Evaluation evaluation) {
        if (evaluation.error() != null && evaluation.error().indexOf('\0') >= 0) {
            return "field error: holds a NUL character, which cannot be stored";
        }
        Instant at = evaluation.evaluatedAt();
        if (at != null && (at.isBefore(EARLIEST) || at.isAfter(LATEST))) {
            return "field evaluatedAt: " + at + " (expected a time between years 1 and 9999)";
        }
        return null;
    }

    /**
     * A record the feed cannot use: said and counted, never thrown, since a throw would read the topic again from its
     * beginning for ever. Not a dead letter: every trainer instance reads the whole topic again at each start, so
     * each would publish it again.
     */
    private void passOver(ConsumerRecord<String, byte[]> record, String outcome, String why) {
        metrics.evaluation(outcome);
        LOG.warnf(
                "%s-%s@%s %s; passed over (trainer_evaluations_total{outcome=\"%s\"})",
                record.topic(), record.partition(), record.offset(), why, outcome);
    }
}
