package dev.streamtune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import dev.streamtune.streams.StartOverException;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.training.TrainingSession;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.inject.ConfigProperty;
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
        List<TrainingStepRow> rows = runs.steps(runId, 0, 1_000, 1);
        assertThat(rows)
                .extracting(row -> row.step)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(rows)
                .extracting(row -> row.at)
                .as("each row is timed when its step was handed over, not written")
                .allMatch(at -> !at.isBefore(before) && !at.isAfter(handedOver))
                .isSorted();
        TrainingRun run = runs.find(runId).orElseThrow();
        assertThat(run.step).as("the rows were applied in the order given").isEqualTo(20);
        assertThat(run.tokensSeen).isEqualTo(2000);

        String missing = "no-such-run-" + UUID.randomUUID(); // its row cannot be written: the run's row is absent
        runs.stepDone(missing, step(1), 100, 1000, 1e-3, null);
        runs.settle(missing);
        assertThatThrownBy(() -> runs.stepDone(missing, step(2), 200, 1000, 1e-3, null))
                .as("the failure reaches the training thread at its next step")
                .isInstanceOf(RuntimeException.class);
    }

    @Test
    void aStepTrainedAgainReplacesItsRowEvenWhenBothWaitForTheWriter() {
        String runId = opened();
        // steps 1 to 3, then a restart from step 1's checkpoint trains 2 and 3 again, all handed over at once
        for (long step = 1; step <= 3; step++) {
            runs.stepDone(
                    runId, new TrainingSession.Step(step, 3.0, 1e-3, 0.5, 100, 128, 0.1), 100 * step, 1000, 1e-3, null);
        }
        for (long step = 2; step <= 3; step++) {
            runs.stepDone(
                    runId, new TrainingSession.Step(step, 2.0, 1e-3, 0.5, 100, 128, 0.1), 100 * step, 1000, 1e-3, null);
        }
        assertThat(runs.steps(runId, 0, 1_000, 1))
                .extracting(row -> row.step + ":" + row.loss)
                .containsExactly("1:3.0", "2:2.0", "3:2.0");
        assertThat(runs.find(runId).orElseThrow().lastLoss).isEqualTo(2.0);

        // a process killed after step 3 restarts from checkpoint-1: steps 2 and 3 are forgotten, to be trained again
        runs.started(runId, "cpu()", "float32", 1, 100);
        assertThat(runs.steps(runId, 0, 1_000, 1)).extracting(row -> row.step).containsExactly(1L);
    }

    /**
     * What a training worker relies on, as InMemoryRunLedger (the lifecycle tests' ledger) also keeps it: a replaced
     * or deleted version's run is retired (STOPPED, marked) unless it had ended, and comes back by itself; a new
     * version retires the others still training; a checkpoint awaits its evaluation until one arrives, one that
     * carries an error included, which takes no part in the validation scores.
     */
    @Test
    void aRunsLifeCycleAsTheWorkerRecordsIt() {
        String recipe = "ledger-" + UUID.randomUUID().toString().substring(0, 8);
        String first = recipe + "-1";
        String second = recipe + "-2";
        String finished = recipe + "-3";
        for (String runId : List.of(first, second, finished)) {
            runs.open(runId, recipe, "hash", "lora", "stories260K", 4L);
            runs.transition(runId, RunState.RUNNING, "started");
        }
        runs.transition(finished, RunState.FINISHED, "reached max_steps 4");

        runs.retire(first, "recipe was replaced by a new version");
        runs.retire(finished, "recipe was deleted");
        assertThat(runs.find(first).orElseThrow()).satisfies(run -> {
            assertThat(run.state).isEqualTo(RunState.STOPPED);
            assertThat(run.retired).isTrue();
        });
        assertThat(runs.find(finished).orElseThrow().state)
                .as("an ended run keeps its state")
                .isEqualTo(RunState.FINISHED);
        assertThat(runs.find(finished).orElseThrow().retired).isFalse();

        runs.reactivate(first, "recipe is at this version again");
        assertThat(runs.find(first).orElseThrow()).satisfies(run -> {
            assertThat(run.state).isEqualTo(RunState.STARTING);
            assertThat(run.retired).isFalse();
        });
        runs.retireOthers(recipe, first, "replaced: run " + first + " takes over");
        assertThat(runs.find(second).orElseThrow().state).isEqualTo(RunState.STOPPED);
        assertThat(runs.find(second).orElseThrow().retired).isTrue();
        assertThat(runs.find(first).orElseThrow().state).isEqualTo(RunState.STARTING);
        assertThat(runs.transitions(second))
                .last()
                .satisfies(t -> assertThat(t.reason).contains("takes over"));

        for (long step = 1; step <= 3; step++) {
            runs.checkpointWritten(first, manifest(first, step), "file:///checkpoint-" + step);
        }
        assertThat(runs.published(first, 1)).isFalse();
        runs.checkpointPublished(first, 1);
        assertThat(runs.published(first, 1)).isTrue();
        assertThat(runs.awaitingEvaluation(first)).containsOnlyKeys(1L, 2L, 3L);
        runs.evaluation(evaluation(first, 2, 1.5, null));
        runs.evaluation(evaluation(first, 3, Double.NaN, "the checkpoint's checksum does not match"));
        assertThat(runs.awaitingEvaluation(first)).containsOnlyKeys(1L);
        assertThat(runs.validationScores(first)).containsExactly(new EarlyStopping.Score(2, 1.5));
        assertThat(runs.evaluations(first))
                .extracting(e -> e.step + ":" + e.loss + ":" + e.error)
                .containsExactly("2:1.5:null", "3:null:the checkpoint's checksum does not match");
    }

    /**
     * PostgreSQL drops the service's connections (an administrator, a failover): the next call fails as the run
     * store being unavailable, an infrastructure failure a training worker starts over from, never a bad batch.
     */
    @Test
    void droppedConnectionsMakeTheStoreUnavailableAndItRecovers() throws Exception {
        String runId = opened();
        try (Connection admin = DriverManager.getConnection(jdbcUrl, username, password);
                Statement statement = admin.createStatement()) {
            statement.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database()"
                            + " and pid <> pg_backend_pid()");
        }
        assertThatThrownBy(() -> runs.transition(runId, RunState.STOPPED, "stopped"))
                .isInstanceOf(RunStoreUnavailableException.class)
                .hasMessageContaining("the run store (PostgreSQL) failed")
                .isInstanceOf(StartOverException.class);
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> runs.find(runId).isPresent());
    }

    @ConfigProperty(name = "quarkus.datasource.jdbc.url")
    String jdbcUrl;

    @ConfigProperty(name = "quarkus.datasource.username")
    String username;

    @ConfigProperty(name = "quarkus.datasource.password")
    String password;

    private static Manifest manifest(String runId, long step) {
        return new Manifest(
                Manifest.VERSION,
                "r",
                runId,
                step,
                step * 10,
                2.0,
                "peft-lora",
                Map.of(0, step),
                Map.of(0, 0L),
                null,
                step,
                step,
                null,
                null,
                "topic",
                "sha256:" + "0".repeat(64),
                Instant.now());
    }

    private static Evaluation evaluation(String runId, long step, double loss, String error) {
        return new Evaluation(
                Evaluation.SCHEMA_VERSION,
                "r",
                runId,
                step,
                "file:///checkpoint-" + step,
                Split.VALID,
                10,
                100,
                loss,
                Math.exp(loss),
                0.5,
                null,
                Instant.now(),
                "sha256:" + "0".repeat(64),
                error);
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
