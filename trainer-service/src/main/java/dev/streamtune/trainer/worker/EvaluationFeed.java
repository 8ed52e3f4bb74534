package dev.streamtune.trainer.worker;

import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EvaluationDeserializer;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * eval-service's verdicts fed back into training: reads {@code evaluations} (every instance the whole topic, from
 * its beginning, as the evaluations are few), records each one of a known run, keeps the run's best checkpoint (the
 * lowest validation loss, which {@code save_total_limit} never deletes), passes over evaluations that carry an error
 * (a checkpoint eval-service could not score), and ends a run this instance trains when its
 * recipe's early stopping says so ({@code early_stopping_patience}, {@code early_stopping_threshold}).
 */
@ApplicationScoped
public class EvaluationFeed implements Runnable {

    private static final System.Logger LOG = System.getLogger(EvaluationFeed.class.getName());

    @Inject
    TrainerStage stage;

    @Inject
    RunStore runs;

    private final EvaluationDeserializer evaluations = new EvaluationDeserializer();
    private volatile Consumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private Thread thread;

    void onStart(@Observes @Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 10) StartupEvent event) {
        thread = new Thread(this, "train-evaluations");
        thread.setDaemon(true);
        thread.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        running = false;
        Consumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        if (thread != null) {
            thread.join(10_000);
        }
    }

    @Override
    public void run() {
        while (running) {
            StageRuntime<TrainWorker> runtime = stage.runtime();
            if (runtime == null) {
                pause();
                continue;
            }
            try (Consumer<String, byte[]> current = new KafkaConsumer<>(runtime.context().kafka()
                    .consumer(null, TrainerStage.SERVICE + "-evaluations"))) {
                consumer = current;
                List<TopicPartition> partitions = current.partitionsFor(Topics.EVALUATIONS).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                current.assign(partitions);
                current.seekToBeginning(partitions);
                while (running) {
                    for (ConsumerRecord<String, byte[]> record : current.poll(Duration.ofMillis(500))) {
                        apply(record);
                    }
                }
            } catch (WakeupException e) {
                // shutting down
            } catch (RuntimeException e) {
                if (running) {
                    LOG.log(Level.WARNING, "cannot read " + Topics.EVALUATIONS + ", reading it again: " + e.getMessage());
                    pause();
                }
            }
        }
    }

    void apply(ConsumerRecord<String, byte[]> record) {
        Evaluation evaluation;
        try {
            evaluation = evaluations.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, Topics.EVALUATIONS + "-" + record.partition() + "@" + record.offset()
                    + " is not an evaluation this trainer can read, passed over: " + e.getMessage());
            return;
        }
        if (evaluation == null || !evaluation.scored()) {
            return; // a checkpoint that could not be scored says nothing about the run's progress
        }
        List<EarlyStopping.Score> scores = runs.evaluation(evaluation);
        TrainWorker worker = stage.workerOf(evaluation.runId());
        if (scores.isEmpty() || worker == null) {
            return; // not a run of this trainer, or not trained by this instance (its own instance decides)
        }
        EarlyStopping.Verdict verdict = EarlyStopping.judge(scores, worker.plan().earlyStoppingPatience(),
                worker.plan().earlyStoppingThreshold());
        runs.best(evaluation.runId(), verdict.bestStep(), verdict.bestLoss());
        if (verdict.stop() && !worker.done()) {
            LOG.log(Level.INFO, "run " + evaluation.runId() + ": " + verdict.reason());
            worker.requestFinish(verdict.reason());
        }
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
