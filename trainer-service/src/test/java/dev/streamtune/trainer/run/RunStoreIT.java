package dev.streamtune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import dev.streamtune.trainer.training.TrainingSession;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The run's row against its concurrent writers, on the real database: each transaction holds the run as it read it
 * while another commits, the interleaving that lost training steps when an evaluation landed mid-step.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(PostgresTestResource.class)
class RunStoreIT {

    @Inject
    RunStore runs;

    @Test
    void aWriterOfTheBestCheckpointNeverPutsBackAStepItReadBefore() throws Exception {
        String runId = opened();
        runs.stepDone(runId, step(6), 600, 1000, 1e-3, null);
        runs.settle(runId);

        // what RunStore.best does, held open while the training thread's step 7 commits
        QuarkusTransaction.requiringNew().run(() -> {
            TrainingRun read = TrainingRun.findById(runId);
            assertThat(read.step).isEqualTo(6);
            read.bestStep = 6L;
            read.bestValidLoss = 1.25;
            inAnotherThread(() -> {
                runs.stepDone(runId, step(7), 700, 1000, 1e-3, null);
                runs.settle(runId);
            });
        });

        TrainingRun run = runs.find(runId).orElseThrow();
        assertThat(run.step).as("the step committed meanwhile").isEqualTo(7);
        assertThat(run.tokensSeen).isEqualTo(700);
        assertThat(run.bestStep).isEqualTo(6);
        assertThat(run.bestValidLoss).isEqualTo(1.25);
    }

    @Test
    void aTrainingStepNeverPutsBackAStateItReadBefore() throws Exception {
        String runId = opened();

        // what RunStore.stepDone does, held open while a user's stop commits
        QuarkusTransaction.requiringNew().run(() -> {
            TrainingRun read = TrainingRun.findById(runId);
            assertThat(read.state).isEqualTo(RunState.RUNNING);
            read.step = 8;
            inAnotherThread(() -> runs.transition(runId, RunState.STOPPED, "stopped by a user"));
        });

        TrainingRun run = runs.find(runId).orElseThrow();
        assertThat(run.state).isEqualTo(RunState.STOPPED);
        assertThat(run.step).isEqualTo(8);
    }

    @Test
    void stepRowsAreWrittenBehindTheTrainingThreadInOrderAndAFailedOneFailsTheNextStep() {
        String runId = opened();
        // (a millisecond either side: the database keeps microseconds)
        Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        for (long step = 1; step <= 20; step++) {
            runs.stepDone(runId, step(step), 100 * step, 1000, 1e-3, null);
        }
        Instant handedOver = Instant.now().plusMillis(1);
        // any other call about the run comes after the rows handed over before it
        List<TrainingStepRow> rows = runs.steps(runId);
        assertThat(rows).extracting(row -> row.step)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(rows).extracting(row -> row.at).as("each row is timed when its step was handed over, not written")
                .allMatch(at -> !at.isBefore(before) && !at.isAfter(handedOver)).isSorted();
        TrainingRun run = runs.find(runId).orElseThrow();
        assertThat(run.step).as("the rows were applied in the order given").isEqualTo(20);
        assertThat(run.tokensSeen).isEqualTo(2000);

        String missing = "no-such-run-" + UUID.randomUUID(); // its row cannot be written: the run's row is absent
        runs.stepDone(missing, step(1), 100, 1000, 1e-3, null);
        runs.settle(missing);
        assertThatThrownBy(() -> runs.stepDone(missing, step(2), 200, 1000, 1e-3, null))
                .as("the failure reaches the training thread at its next step").isInstanceOf(RuntimeException.class);
    }

    @Test
    void aStepTrainedAgainReplacesItsRowEvenWhenBothWaitForTheWriter() {
        String runId = opened();
        // steps 1 to 3, then a restart from step 1's checkpoint trains 2 and 3 again, all handed over at once
        for (long step = 1; step <= 3; step++) {
            runs.stepDone(runId, new TrainingSession.Step(step, 3.0, 1e-3, 0.5, 100, 128, 0.1), 100 * step, 1000, 1e-3, null);
        }
        for (long step = 2; step <= 3; step++) {
            runs.stepDone(runId, new TrainingSession.Step(step, 2.0, 1e-3, 0.5, 100, 128, 0.1), 100 * step, 1000, 1e-3, null);
        }
        assertThat(runs.steps(runId)).extracting(row -> row.step + ":" + row.loss)
                .containsExactly("1:3.0", "2:2.0", "3:2.0");
        assertThat(runs.find(runId).orElseThrow().lastLoss).isEqualTo(2.0);
    }

    private String opened() {
        String runId = "concurrent-" + UUID.randomUUID();
        runs.open(runId, "concurrent", "hash", "lora", "stories260K", null);
        runs.transition(runId, RunState.RUNNING, "started");
        return runId;
    }

    private static TrainingSession.Step step(long step) {
        return new TrainingSession.Step(step, 2.5, 1e-3, 0.5, 100, 128, 0.1);
    }

    /** Runs {@code write} to its end in its own thread (its own transaction) and rethrows what it threw. */
    private static void inAnotherThread(Runnable write) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                write.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (failure.get() != null) {
            throw new AssertionError("the concurrent write failed", failure.get());
        }
    }
}
