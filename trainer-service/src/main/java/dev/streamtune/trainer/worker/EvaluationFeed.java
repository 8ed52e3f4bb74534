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
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jboss.logging.Logger;

/**
 * eval-service's verdicts fed back into training: reads {@code evaluations} (every instance the whole topic, from
 * its beginning, as the evaluations are few), records each one of a known run (one that carries an error, a
 * checkpoint eval-service could not score, too: its checkpoint's evaluation has arrived), keeps the run's best
 * checkpoint (the lowest validation loss, which {@code save_total_limit} never deletes), and ends a run this
 * instance trains when its recipe's early stopping says so ({@code early_stopping_patience},
 * {@code early_stopping_threshold}).
 */
@ApplicationScoped
public class EvaluationFeed {

    private static final Logger LOG = Logger.getLogger(EvaluationFeed.class);

    private final TrainerStage stage;
    private final RunStore runs;
    private final Map<String, Object> kafka;

    private final EvaluationDeserializer evaluations = new EvaluationDeserializer();
    private TopicTail tail;

    public EvaluationFeed(
            TrainerStage stage, RunStore runs, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.stage = stage;
        this.runs = runs;
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
            LOG.warnf(
                    "%s-%s@%s is not an evaluation this trainer can read, passed over: %s",
                    Topics.EVALUATIONS, record.partition(), record.offset(), e.getMessage());
            return;
        }
        if (evaluation == null) {
            return;
        }
        List<EarlyStopping.Score> scores = runs.evaluation(evaluation);
        TrainWorker worker = stage.workerOf(evaluation.runId());
        if (worker == null) {
            return; // not a run of this trainer, or not trained by this instance (its own instance decides)
        }
        if (evaluation.scored()) {
            worker.judge(scores);
        } else {
            worker.evaluationArrived(); // says nothing of progress, but its checkpoint may now be rotated away
        }
    }
}
