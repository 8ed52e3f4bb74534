package dev.streamtune.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import dev.streamtune.trainer.training.TrainingSession;
import dev.streamtune.trainer.worker.TinyRecipes.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's life through the real worker, stage framework, training session and checkpoint files, against an
 * in-memory topic and run store, one poll at a time ({@link TrainerSandbox}): each test is an order of events that
 * once went wrong.
 */
class TrainWorkerTest {

    @TempDir
    Path folder;

    private static InMemoryRunLedger.Run run(TrainerSandbox sandbox, Recipe recipe) {
        return sandbox.ledger.run(TrainerSandbox.runId(recipe));
    }

    private static List<Double> losses(InMemoryRunLedger.Run run) {
        return run.steps.values().stream().map(TrainingSession.Step::loss).toList();
    }

    /** Polls the recipe's worker one poll at a time until {@code done}. */
    private static void pollUntil(TrainerSandbox sandbox, Recipe recipe, BooleanSupplier done) {
        TrainerSandbox.TrainerProcess process = sandbox.process();
        for (int polls = 0; !done.getAsBoolean(); polls++) {
            assertThat(polls).as("polls before the awaited moment").isLessThan(1000);
            process.pollOnce(TrainerSandbox.runId(recipe));
        }
    }

    /** The losses of the recipe trained on {@code batches} batches, uninterrupted, to its end. */
    private List<Double> uninterrupted(String yaml, int batches, boolean epochs) throws Exception {
        try (TrainerSandbox sandbox = new TrainerSandbox(Files.createTempDirectory(folder, "reference"))) {
            Recipe recipe = sandbox.post(yaml);
            sandbox.arrive(recipe.id(), 0, batches);
            sandbox.process().drive();
            if (epochs) {
                sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
                sandbox.process().drive();
            }
            assertThat(run(sandbox, recipe).row.state).isEqualTo(RunState.FINISHED);
            return losses(run(sandbox, recipe));
        }
    }

    /**
     * Epochs 3 over 4 batches, 2 per step, a checkpoint every 2 steps: checkpoint-4 ends the second pass, so its
     * offsets are the end of the data. Restarted from it the run used to read on from there, see nothing, and stay
     * RUNNING at step 4 for ever; it must begin the third pass and finish at step 6 with the uninterrupted losses.
     */
    @Test
    void anEpochRunResumedFromACheckpointAtTheEndOfAPassTrainsTheNextPass() throws Exception {
        String yaml = TinyRecipes.recipe(
                "epochs",
                Method.LORA,
                16,
                "num_train_epochs: 3",
                "lr_scheduler_type: constant_with_warmup\ngradient_accumulation_steps: 2\nsave_steps: 2\n");
        List<Double> expected = uninterrupted(yaml, 4, true);
        assertThat(expected).hasSize(6);

        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(yaml);
            sandbox.arrive(recipe.id(), 0, 4);
            sandbox.process().drive();
            sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
            pollUntil(
                    sandbox, recipe, () -> run(sandbox, recipe).checkpointStatus.containsKey(4L));
            assertThat(run(sandbox, recipe).row.step).isEqualTo(4);

            sandbox.killAndRestart();
            sandbox.process().drive();

            InMemoryRunLedger.Run run = run(sandbox, recipe);
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            assertThat(run.row.step).isEqualTo(6);
            assertThat(run.transitions)
                    .anySatisfy(t -> assertThat(t)
                            .contains("resumed at step 4", "the checkpoint ended a pass; the next one begins"));
            assertThat(losses(run)).containsExactlyElementsOf(expected);
        }
    }

    /**
     * Found by the lifecycle test: a process killed after steps it had not checkpointed left their rows behind, so a
     * run restarted from an earlier point showed steps it no longer had (here step 2, trained in a replay the new
     * process has not reached: its first pass must close again). A start forgets the rows past its checkpoint.
     */
    @Test
    void aRestartForgetsTheStepsItsCheckpointDoesNotHold() throws Exception {
        String yaml = TinyRecipes.recipe(
                "forget",
                Method.LORA,
                16,
                "num_train_epochs: 3",
                "lr_scheduler_type: constant_with_warmup\ngradient_accumulation_steps: 2\nsave_steps: 3\n");
        List<Double> expected = uninterrupted(yaml, 2, true);
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(yaml);
            sandbox.arrive(recipe.id(), 0, 2);
            sandbox.process().drive();
            sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
            pollUntil(sandbox, recipe, () -> run(sandbox, recipe).steps.containsKey(2L));
            sandbox.killAndRestart();
            sandbox.process().drive();
            InMemoryRunLedger.Run run = run(sandbox, recipe);
            assertThat(run.steps).containsOnlyKeys(1L);
            assertThat(run.row.step).isEqualTo(1);

            sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
            sandbox.process().drive();
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            assertThat(losses(run)).containsExactlyElementsOf(expected);
        }
    }

    /**
     * A replaced version's run ends STOPPED, naming the version that took over, and lets its model go before the new
     * version loads its own; a deleted recipe's run ends STOPPED too. A trainer restarted afterwards loads nothing,
     * and a version posted again takes up where its run stopped.
     */
    @Test
    void aReplacedOrDeletedVersionsRunEndsAndLetsItsModelGo() throws Exception {
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            String first = TinyRecipes.recipe("swap", Method.LORA, 16, "", "save_steps: 2\n");
            Recipe v1 = sandbox.post(first);
            sandbox.arrive(v1.id(), 0, 3);
            sandbox.process().drive();
            assertThat(run(sandbox, v1).row.state).isEqualTo(RunState.RUNNING);
            assertThat(sandbox.process().metrics.modelsHeld()).isEqualTo(1);

            Recipe v2 = sandbox.post(TinyRecipes.recipe("swap", Method.LORA, 24, "", "save_steps: 2\n"));
            sandbox.process().drive();
            InMemoryRunLedger.Run old = run(sandbox, v1);
            assertThat(old.row.state).isEqualTo(RunState.STOPPED);
            assertThat(old.row.retired).isTrue();
            assertThat(old.transitions.get(old.transitions.size() - 1))
                    .contains("replaced by a new version", TrainerSandbox.runId(v2), "stopped at step 3");
            assertThat(old.checkpointStatus)
                    .as("what its steps trained is kept")
                    .containsKey(3L);
            assertThat(sandbox.process().worker(TrainerSandbox.runId(v1))).isNull();
            assertThat(sandbox.process().metrics.modelsHeld())
                    .as("only the new version's model")
                    .isEqualTo(1);
            assertThat(run(sandbox, v2).row.step)
                    .as("the new version trains the recipe's batches from the start")
                    .isEqualTo(3);

            sandbox.delete(v2.id());
            assertThat(run(sandbox, v2).row.state).isEqualTo(RunState.STOPPED);
            assertThat(run(sandbox, v2)
                            .transitions
                            .get(run(sandbox, v2).transitions.size() - 1))
                    .contains("recipe swap was deleted");
            assertThat(sandbox.process().metrics.modelsHeld()).isZero();

            sandbox.killAndRestart();
            assertThat(sandbox.process().workers()).isEmpty();
            assertThat(sandbox.process().metrics.modelsHeld()).isZero();

            sandbox.post(first); // version 1 again: its run takes up where it stopped
            sandbox.arrive(v1.id(), 3, 1);
            sandbox.process().drive();
            assertThat(run(sandbox, v1).row.state).isEqualTo(RunState.RUNNING);
            assertThat(run(sandbox, v1).row.retired).isFalse();
            assertThat(run(sandbox, v1).row.step).isEqualTo(4);
            assertThat(run(sandbox, v1).transitions)
                    .anySatisfy(t -> assertThat(t).contains("is at this version again"));
        }
    }

    /**
     * save_total_limit 1, a checkpoint every step, and an evaluator slower than the steps: nothing is rotated away
     * before its evaluation arrives (eval-service scores the newest first, the older ones after), then only the
     * newest and the best stay; a checkpoint whose evaluation never comes goes once the wait has passed.
     */
    @Test
    void rotationWaitsForEachCheckpointsEvaluationAndKeepsTheBest() throws Exception {
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(TinyRecipes.recipe(
                    "rotate", Method.JOLA, 16, "max_steps: 20", "save_steps: 1\nsave_total_limit: 1\n"));
            String runId = TrainerSandbox.runId(recipe);
            sandbox.arrive(recipe.id(), 0, 4);
            sandbox.process().drive();
            InMemoryRunLedger.Run run = run(sandbox, recipe);
            assertThat(run.checkpointStatus)
                    .containsOnlyKeys(1L, 2L, 3L, 4L)
                    .allSatisfy((step, status) -> assertThat(status).isEqualTo(SavedCheckpointStatus.AVAILABLE));
            assertThat(folders(sandbox, recipe)).containsExactly(1L, 2L, 3L, 4L);

            sandbox.evaluation(runId, 4, 2.0);
            sandbox.evaluation(runId, 2, 1.0); // the best
            sandbox.evaluation(runId, 3, 3.0);
            sandbox.process().drive();
            assertThat(folders(sandbox, recipe)).as("1 awaits its evaluation").containsExactly(1L, 2L, 4L);
            assertThat(run.checkpointStatus.get(3L)).isEqualTo(SavedCheckpointStatus.DELETED);

            sandbox.arrive(recipe.id(), 4, 1);
            sandbox.process().drive();
            sandbox.evaluation(runId, 1, null); // eval-service could not score it: an evaluation all the same
            sandbox.process().drive();
            assertThat(folders(sandbox, recipe)).containsExactly(2L, 5L);

            sandbox.arrive(recipe.id(), 5, 1);
            sandbox.process().drive();
            assertThat(folders(sandbox, recipe)).containsExactly(2L, 5L, 6L);
            sandbox.clock.advance(TrainerSandbox.EVALUATION_WAIT);
            sandbox.process().drive();
            assertThat(folders(sandbox, recipe)).as("5 waited long enough").containsExactly(2L, 6L);
        }
    }

    private static List<Long> folders(TrainerSandbox sandbox, Recipe recipe) throws Exception {
        return new CheckpointStore(sandbox.checkpointRoot, recipe.id(), TrainerSandbox.runId(recipe))
                .folders().stream().map(f -> f.step()).sorted().toList();
    }

    /**
     * A stop asked for while a step is half accumulated and no batch comes lands at the next (idle) poll: the half
     * step is forgotten, the completed steps are checkpointed, and a resume trains the forgotten batch again, so the
     * run's losses are those of an uninterrupted run. Early stopping lands the same way.
     */
    @Test
    void aStopLandsWithAHalfAccumulatedStepAndNoBatchComing() throws Exception {
        String yaml = TinyRecipes.recipe(
                "halfway",
                Method.FULL,
                16,
                "max_steps: 3",
                "gradient_accumulation_steps: 2\nsave_steps: 10\nearly_stopping_patience: 1\n");
        List<Double> expected = uninterrupted(yaml, 6, false);
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(yaml);
            String runId = TrainerSandbox.runId(recipe);
            sandbox.arrive(recipe.id(), 0, 3);
            sandbox.process().drive();
            assertThat(run(sandbox, recipe).row.step).isEqualTo(1);

            assertThat(sandbox.stop(runId)).isTrue();
            sandbox.process().drive();
            InMemoryRunLedger.Run run = run(sandbox, recipe);
            assertThat(run.row.state).isEqualTo(RunState.STOPPED);
            assertThat(run.checkpointStatus).containsOnlyKeys(1L);
            assertThat(sandbox.process().metrics.modelsHeld()).isZero();

            assertThat(sandbox.resume(runId)).isTrue();
            sandbox.arrive(recipe.id(), 3, 2);
            sandbox.process().drive();
            run = run(sandbox, recipe);
            assertThat(run.row.step).isEqualTo(2);
            assertThat(losses(run)).containsExactlyElementsOf(expected.subList(0, 2));

            // early stopping decided while a step is half accumulated (batch 4)
            sandbox.evaluation(runId, 1, 1.0);
            sandbox.evaluation(runId, 2, 1.5);
            sandbox.process().drive();
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            assertThat(run.row.step).isEqualTo(2);
            assertThat(run.transitions.get(run.transitions.size() - 1)).contains("early stopping", "stopped at step 2");
        }
    }

    /**
     * The run store fails once inside the handling of a batch (where the run's first offsets, a step's row or a
     * checkpoint's row is written), or loses a step's row behind the training thread: the worker starts over from its
     * newest checkpoint and reads the batch again, so nothing is dead-lettered, no step's row is missing (a
     * checkpoint is never written over a lost one), and the losses are those of an uninterrupted run.
     */
    @Test
    void aDatabaseFailureInsideABatchStartsOverAndDeadLettersNothing() throws Exception {
        String yaml = TinyRecipes.recipe(
                "database", Method.LORA, 16, "max_steps: 4", "gradient_accumulation_steps: 2\nsave_steps: 1\n");
        List<Double> expected = uninterrupted(yaml, 8, false);
        for (String call : List.of("startOffsets", "stepDone", "checkpointWritten", "a step row")) {
            try (TrainerSandbox sandbox =
                    new TrainerSandbox(Files.createTempDirectory(folder, call.replace(' ', '-')))) {
                Recipe recipe = sandbox.post(yaml);
                if (call.equals("a step row")) {
                    sandbox.ledger.loseNextStepRow(); // written behind the training thread, lost, reported later
                } else {
                    sandbox.ledger.failNext(call);
                }
                sandbox.arrive(recipe.id(), 0, 8);
                sandbox.process().drive();
                InMemoryRunLedger.Run run = run(sandbox, recipe);
                assertThat(sandbox.ledger.failures()).as(call).isEqualTo(1);
                assertThat(sandbox.deadLetters()).as(call).isEmpty();
                assertThat(run.row.state).as(call).isEqualTo(RunState.FINISHED);
                assertThat(losses(run)).as(call).containsExactlyElementsOf(expected);
                assertThat(run.steps).as(call).containsOnlyKeys(1L, 2L, 3L, 4L);
                assertThat(sandbox.process()
                                .worker(TrainerSandbox.runId(recipe))
                                .workerState()
                                .retries())
                        .as(call)
                        .isEqualTo(1);
            }
        }
    }

    /**
     * A batch of a schema version this trainer does not read (a newer producer's) is a dead letter naming the
     * record, the field and the version expected, and a rejected batch of the run; the run trains the batches around
     * it and finishes, the worker never starting over for it.
     */
    @Test
    void aBatchOfAnotherSchemaVersionIsADeadLetterAndTheRunGoesOn() throws Exception {
        String yaml = TinyRecipes.recipe(
                "newer", Method.LORA, 16, "max_steps: 2", "gradient_accumulation_steps: 2\nsave_steps: 2\n");
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(yaml);
            sandbox.arrive(recipe.id(), 0, 2);
            String batch = new String(
                    new EventSerializer<TrainBatch>().serialize(Topics.BATCHES, TinyRecipes.batch(recipe.id(), 2)),
                    StandardCharsets.UTF_8);
            assertThat(batch).contains("\"schemaVersion\":" + TrainBatch.SCHEMA_VERSION + ",");
            sandbox.log.append(
                    recipe.id(),
                    batch.replaceFirst("\"schemaVersion\":\\d+,", "\"schemaVersion\":99,")
                            .getBytes(StandardCharsets.UTF_8));
            sandbox.arrive(recipe.id(), 3, 2);
            sandbox.process().drive();

            InMemoryRunLedger.Run run = run(sandbox, recipe);
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            assertThat(run.row.step).isEqualTo(2);
            assertThat(run.rejectedBatches).hasSize(1);
            assertThat(sandbox.deadLetters())
                    .singleElement()
                    .asString()
                    .contains(
                            "batches-0@2",
                            "\"field\":\"schemaVersion\"",
                            "has schemaVersion 99 but this consumer reads schemaVersion " + TrainBatch.SCHEMA_VERSION,
                            "the run goes on");
            assertThat(sandbox.process()
                            .worker(TrainerSandbox.runId(recipe))
                            .workerState()
                            .retries())
                    .isZero();
        }
    }

    /**
     * continuous: true with max_steps 4: the run trains on past max_steps at the rate its schedule ends at, never
     * the rise of cosine's formula past its end; with cosine_with_min_lr that is the floor.
     */
    @Test
    void aContinuousRunPastMaxStepsHoldsItsSchedulesEndRate() throws Exception {
        for (String schedule : List.of("cosine", "cosine_with_min_lr\nlr_scheduler_kwargs: {min_lr: 0.002}")) {
            try (TrainerSandbox sandbox = new TrainerSandbox(Files.createTempDirectory(folder, "continuous"))) {
                Recipe recipe = sandbox.post(TinyRecipes.recipe(
                        "continuing",
                        Method.LORA,
                        16,
                        "max_steps: 4",
                        "continuous: true\nwarmup_steps: 1\nsave_steps: 4\nlr_scheduler_type: " + schedule + "\n"));
                sandbox.arrive(recipe.id(), 0, 8);
                sandbox.process().drive();
                InMemoryRunLedger.Run run = run(sandbox, recipe);
                assertThat(run.row.state).isEqualTo(RunState.RUNNING);
                assertThat(run.row.step).isEqualTo(8);
                LearningRateSchedule expected =
                        sandbox.plans.of(recipe).optimisation().scheduleOver(4L);
                run.steps.forEach((step, taken) -> assertThat(taken.learningRate())
                        .as("%s step %d", schedule, step)
                        .isCloseTo(expected.at(step - 1), Offset.offset(1e-12)));
                double end = schedule.startsWith("cosine_with_min_lr") ? 0.002 : 0.0;
                for (long step = 5; step <= 8; step++) {
                    assertThat(run.steps.get(step).learningRate()).isCloseTo(end, Offset.offset(1e-12));
                }
            }
        }
    }
}
