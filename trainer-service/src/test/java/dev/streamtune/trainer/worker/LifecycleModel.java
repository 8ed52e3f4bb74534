package dev.streamtune.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.TrainingSession;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Arrive;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Config;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Delete;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Evaluate;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Event;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Kill;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Length;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Quiet;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Replace;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Repost;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Resume;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.Stop;
import dev.streamtune.trainer.worker.TrainWorkerLifecycleTest.WaitOutEvaluations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.assertj.core.data.Offset;

/**
 * What should have become of a recipe's runs after each event, worked out without the trainer: which state each
 * run is in and how many optimiser steps it has trained once everything on the topic is handled. Its rules are a
 * run's life as README's table states it:
 *
 * <ul>
 *   <li>a RUNNING run has trained floor(batches / accumulation) steps (none while a first pass only counts), up to
 *       max_steps where the run ends (FINISHED); a run with epochs whose stream was quiet for 30 s with batches read
 *       trains its passes to its end: FINISHED at ceil(epochs x batches / accumulation) steps;</li>
 *   <li>a stop, a replacement or a deletion freezes the steps a RUNNING run has (STOPPED, retired for the latter
 *       two); a resume, or its version posted again, makes it RUNNING; early stopping, once its evaluations say so,
 *       makes a RUNNING run FINISHED where it is;</li>
 *   <li>a kill changes nothing but where a run with epochs resumes: the end of its first pass is known after a kill
 *       only if a checkpoint recorded it (the model reads the newest one: what survives a kill).</li>
 * </ul>
 *
 * The losses are checked against reference sessions trained alongside on the batches the model says, in order.
 */
final class LifecycleModel implements AutoCloseable {

    enum Status {
        RUNNING,
        STOPPED,
        RETIRED,
        FINISHED
    }

    /** One run as the model expects it. */
    final class Expected {
        final Recipe recipe;
        final TrainingPlan plan;
        final String runId;
        Status status = Status.RUNNING;
        long steps;
        /** Batches of its data once the first pass closed (runs with epochs). */
        Integer data;

        Reference reference;

        Expected(Recipe recipe) {
            this.recipe = recipe;
            this.plan = sandbox.plans.of(recipe);
            this.runId = TrainerSandbox.runId(recipe);
        }

        /** The run's length as its schedule spans it: max_steps, or what its data gives, or none. */
        Long scheduleLength() {
            if (config.length() == Length.EPOCHS_COUNTED) {
                return data == null ? null : plan.stepsFor(data);
            }
            return plan.maxSteps();
        }
    }

    /** An uninterrupted session trained on the batches the model says, in order, each once per pass. */
    final class Reference implements AutoCloseable {
        private final Expected run;
        private final TrainingSession session;
        private final List<TrainingSession.Step> steps = new ArrayList<>();
        private long microBatches;
        private boolean finished;

        Reference(Expected run) throws IOException {
            this.run = run;
            this.session =
                    TrainingSession.start(run.plan, run.plan.precisionOn(Compute.device()), Compute.newManager());
            if (run.plan.lengthFromData()) {
                session.runLength(run.plan.stepsFor(run.data));
            }
        }

        TrainingSession.Step step(long step) {
            while (steps.size() < step) {
                assertThat(finished)
                        .as("run %s's reference has no step %d", run.runId, step)
                        .isFalse();
                int index = (int) (run.data == null ? microBatches : microBatches % run.data);
                TrainingSession.Step taken = session.train(BatchTensors.of(
                        TinyRecipes.batch(TrainWorkerLifecycleTest.recipeId(), index),
                        session.model().vocabSize(),
                        session.model().maxPositions()));
                microBatches++;
                if (taken != null) {
                    steps.add(taken);
                }
                if (run.data != null && run.plan.epochs() != null && microBatches == run.plan.batchBudget(run.data)) {
                    TrainingSession.Step last = session.flushStep();
                    if (last != null) {
                        steps.add(last);
                    }
                    finished = true;
                }
            }
            return steps.get((int) step - 1);
        }

        @Override
        public void close() {
            session.close();
        }
    }

    private final Config config;
    private final TrainerSandbox sandbox;
    private final Map<String, Expected> runs = new LinkedHashMap<>();
    private String current;
    private int versions;
    private int batches;
    private Duration quiet = Duration.ZERO;

    LifecycleModel(Config config, TrainerSandbox sandbox) {
        this.config = config;
        this.sandbox = sandbox;
    }

    // --- events ---------------------------------------------------------------------------------------------------

    void apply(Event event) {
        if (event instanceof Arrive arrive) {
            arrive(arrive.batches(), arrive.fault());
        } else if (event instanceof Quiet q) {
            quiet(Duration.ofSeconds(q.seconds()));
        } else if (event instanceof Stop) {
            stop();
        } else if (event instanceof Resume) {
            resume();
        } else if (event instanceof Replace replace) {
            post(++versions, replace.changedModel());
        } else if (event instanceof Delete) {
            delete();
        } else if (event instanceof Repost) {
            post(0, false);
        } else if (event instanceof Kill kill) {
            kill(kill);
        } else if (event instanceof Evaluate evaluate) {
            evaluate(evaluate.better());
        } else if (event instanceof WaitOutEvaluations) {
            quiet(TrainerSandbox.EVALUATION_WAIT);
        } else {
            throw new IllegalArgumentException(String.valueOf(event));
        }
    }

    /** Version {@code version} of the recipe is posted: the current one's run ends if training, its run takes over. */
    void post(int version, boolean changedModel) {
        Recipe recipe = sandbox.post(config.recipe(version, changedModel));
        String runId = TrainerSandbox.runId(recipe);
        if (runId.equals(current)) {
            sandbox.process().drive(); // the same version again changes nothing
            settle();
            return;
        }
        retireCurrent();
        Expected run = runs.computeIfAbsent(runId, id -> new Expected(recipe));
        if (run.status == Status.RETIRED) {
            run.status = Status.RUNNING;
        }
        current = runId;
        quiet = Duration.ZERO;
        sandbox.process().drive();
        finishIfEarlyStopped(run);
        settle();
    }

    private void retireCurrent() {
        Expected previous = current == null ? null : runs.get(current);
        if (previous != null && previous.status == Status.RUNNING) {
            previous.status = Status.RETIRED;
        }
    }

    private void arrive(int count, TrainWorkerLifecycleTest.DatabaseFault fault) {
        if (fault == TrainWorkerLifecycleTest.DatabaseFault.CALL) {
            sandbox.ledger.failNextCall();
        } else if (fault == TrainWorkerLifecycleTest.DatabaseFault.STEP_ROW) {
            sandbox.ledger.loseNextStepRow();
        }
        sandbox.arrive(TrainWorkerLifecycleTest.recipeId(), batches, count);
        batches += count;
        if (currentRunning()) {
            quiet = Duration.ZERO;
        }
        sandbox.process().drive();
        sandbox.ledger.clearFailures();
        settle();
    }

    private void quiet(Duration duration) {
        sandbox.clock.advance(duration);
        quiet = quiet.plus(duration);
        sandbox.process().drive();
        settle();
    }

    private void stop() {
        if (current != null) {
            sandbox.stop(current);
        }
        sandbox.process().drive();
        if (currentRunning()) {
            runs.get(current).status = Status.STOPPED;
        }
    }

    private void resume() {
        if (current == null) {
            assertThat(sandbox.resume("no-such-run")).isFalse();
            return;
        }
        Expected run = runs.get(current);
        boolean resumed = sandbox.resume(current);
        assertThat(resumed).as("resume of a %s run", run.status).isEqualTo(run.status != Status.RUNNING);
        if (resumed) {
            quiet = Duration.ZERO;
            if (run.status == Status.STOPPED) {
                run.status = Status.RUNNING;
            }
        }
        sandbox.process().drive();
        finishIfEarlyStopped(run);
        settle();
    }

    private void delete() {
        sandbox.delete(TrainWorkerLifecycleTest.recipeId());
        retireCurrent();
        current = null;
        sandbox.process().drive();
    }

    /** What {@code kill} brings arrives, the worker polls a few times, and the process dies and starts again. */
    private void kill(Kill kill) {
        if (kill.pendingBatches() > 0) {
            sandbox.arrive(TrainWorkerLifecycleTest.recipeId(), batches, kill.pendingBatches());
            batches += kill.pendingBatches();
        }
        if (kill.pendingQuiet()) {
            sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
        }
        TrainWorker worker = current == null ? null : sandbox.process().worker(current);
        InMemoryRunLedger.Run row = current == null ? null : sandbox.ledger.run(current);
        int checkpoints = row == null ? 0 : row.checkpointStatus.size();
        int polls = kill.afterCheckpoint() ? 50 : kill.polls();
        for (int i = 0; worker != null && i < polls && !worker.done(); i++) {
            sandbox.process().pollOnce(current);
            if (kill.afterCheckpoint() && row.checkpointStatus.size() > checkpoints) {
                break;
            }
        }
        sandbox.killAndRestart();
        quiet = Duration.ZERO;
        Expected run = current == null ? null : runs.get(current);
        if (run != null && run.status == Status.RUNNING && config.length().epochs() && run.data == null) {
            Manifest newest = newestCheckpoint(run);
            if (newest != null && newest.epochEnd() != null) {
                run.data = newest.epochBatches().intValue(); // the end of the first pass survived in a checkpoint
            }
        }
        sandbox.process().drive();
        settle();
    }

    private void evaluate(boolean better) {
        if (current == null) {
            return;
        }
        InMemoryRunLedger.Run row = sandbox.ledger.run(current);
        Long step = row.checkpointStatus.entrySet().stream()
                .filter(e -> SavedCheckpointStatus.AVAILABLE.equals(e.getValue())
                        && !row.evaluations.containsKey(e.getKey()))
                .map(Map.Entry::getKey)
                .reduce((a, b) -> b)
                .orElse(null);
        if (step == null) {
            return;
        }
        double best = row.evaluations.values().stream()
                .map(splits -> splits.get("valid"))
                .filter(Objects::nonNull)
                .mapToDouble(Double::doubleValue)
                .min()
                .orElse(3.0);
        sandbox.evaluation(current, step, better ? best - 0.1 : best + 0.1);
        sandbox.process().drive();
        finishIfEarlyStopped(runs.get(current));
        settle();
    }

    // --- the rules ------------------------------------------------------------------------------------------------

    private boolean currentRunning() {
        return current != null && runs.get(current).status == Status.RUNNING;
    }

    /** Early stopping ends a RUNNING run where it is, once its evaluations say so (also at a start). */
    private void finishIfEarlyStopped(Expected run) {
        if (run.status == Status.RUNNING
                && config.patience() != null
                && EarlyStopping.judge(scores(run), config.patience(), 0.0).stop()) {
            run.status = Status.FINISHED;
        }
    }

    private List<EarlyStopping.Score> scores(Expected run) {
        List<EarlyStopping.Score> scores = new ArrayList<>();
        sandbox.ledger.run(run.runId).evaluations.forEach((step, splits) -> {
            if (splits.get("valid") != null) {
                scores.add(new EarlyStopping.Score(step, splits.get("valid")));
            }
        });
        return scores;
    }

    /** The current run once everything on the topic is handled. */
    private void settle() {
        if (!currentRunning()) {
            return;
        }
        Expected run = runs.get(current);
        int accumulation = config.accumulation();
        if (config.length().epochs()) {
            if (run.data == null && batches > 0 && quiet.compareTo(TrainerSandbox.STREAM_END_AFTER) >= 0) {
                run.data = batches;
            }
            if (run.data != null) {
                run.steps = run.plan.stepsFor(run.data);
                run.status = Status.FINISHED;
            } else {
                run.steps = run.plan.lengthFromData() ? 0 : batches / accumulation;
            }
            return;
        }
        run.steps = batches / accumulation;
        if (config.length() == Length.MAX_STEPS && run.steps >= run.plan.maxSteps()) {
            run.steps = run.plan.maxSteps();
            run.status = Status.FINISHED;
        }
    }

    // --- the invariants -------------------------------------------------------------------------------------------

    void check(String when) {
        TrainerSandbox.TrainerProcess process = sandbox.process();
        int holding = 0;
        for (TrainWorker worker : process.workers()) {
            if (worker.holdsModel()) {
                holding++;
                assertThat(sandbox.ledger.run(worker.runId()).row.state)
                        .as("%s: a worker holding a model trains its" + " run", when)
                        .isEqualTo(RunState.RUNNING);
            }
        }
        assertThat(process.metrics.modelsHeld())
                .as("%s: the models-held gauge", when)
                .isEqualTo(holding);
        assertThat(sandbox.deadLetters()).as("%s: dead letters", when).isEmpty();
        for (Expected run : runs.values()) {
            checkRun(run, when);
        }
    }

    private void checkRun(Expected run, String when) {
        InMemoryRunLedger.Run row = sandbox.ledger.run(run.runId);
        String what = when + ", run " + run.runId;
        assertThat(row).as(what).isNotNull();
        RunState state = switch (run.status) {
            case RUNNING -> RunState.RUNNING;
            case STOPPED, RETIRED -> RunState.STOPPED;
            case FINISHED -> RunState.FINISHED;
        };
        assertThat(row.row.state)
                .as("%s: state (transitions %s)", what, row.transitions)
                .isEqualTo(state);
        assertThat(row.row.retired).as("%s: retired", what).isEqualTo(run.status == Status.RETIRED);
        if (run.status == Status.RUNNING) {
            TrainWorker worker = sandbox.process().worker(run.runId);
            assertThat(worker).as("%s: a RUNNING run has a worker", what).isNotNull();
            assertThat(worker.holdsModel())
                    .as("%s: its worker holds its model", what)
                    .isTrue();
        }
        long trained = row.steps.isEmpty() ? 0 : row.steps.lastKey();
        assertThat(trained)
                .as("%s: steps (transitions %s)", what, row.transitions)
                .isEqualTo(run.steps);
        assertThat(row.steps.keySet()).as("%s: every step once", what).hasSize((int) trained);
        for (Map.Entry<Long, TrainingSession.Step> step : row.steps.entrySet()) {
            TrainingSession.Step expected = reference(run).step(step.getKey());
            assertThat(step.getValue().loss())
                    .as("%s: loss of step %d", what, step.getKey())
                    .isCloseTo(expected.loss(), Offset.offset(1e-6 * (1 + Math.abs(expected.loss()))));
            double rate =
                    run.plan.optimisation().scheduleOver(run.scheduleLength()).at(step.getKey() - 1);
            assertThat(step.getValue().learningRate())
                    .as("%s: rate of step %d", what, step.getKey())
                    .isCloseTo(rate, Offset.offset(1e-12));
        }
        checkCheckpoints(run, row, what);
    }

    private void checkCheckpoints(Expected run, InMemoryRunLedger.Run row, String what) {
        CheckpointStore store = new CheckpointStore(sandbox.checkpointRoot, run.recipe.id(), run.runId);
        List<Long> onDisk = new ArrayList<>();
        try {
            for (CheckpointStore.Folder folder : store.folders()) {
                CheckpointStore.Found found = store.verify(folder);
                assertThat(found.problem())
                        .as("%s: checkpoint-%d", what, folder.step())
                        .isNull();
                onDisk.add(folder.step());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Long best = EarlyStopping.judge(scores(run), null, 0).bestStep();
        if (best != null) {
            assertThat(onDisk).as("%s: the best checkpoint is on disk", what).contains(best);
        }
        Instant now = sandbox.clock.now();
        row.checkpointStatus.forEach((step, status) -> {
            if (SavedCheckpointStatus.DELETED.equals(status)) {
                boolean evaluated = row.evaluations.containsKey(step);
                boolean waitedOut =
                        !now.isBefore(row.checkpointWritten.get(step).plus(TrainerSandbox.EVALUATION_WAIT));
                assertThat(evaluated || waitedOut)
                        .as("%s: checkpoint-%d rotated away before its evaluation", what, step)
                        .isTrue();
                assertThat(onDisk).as("%s: a deleted checkpoint is gone", what).doesNotContain(step);
            }
        });
    }

    private Reference reference(Expected run) {
        if (run.reference == null) {
            try {
                run.reference = new Reference(run);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return run.reference;
    }

    private Manifest newestCheckpoint(Expected run) {
        try {
            CheckpointStore.Found found = new CheckpointStore(sandbox.checkpointRoot, run.recipe.id(), run.runId)
                    .newestValid(passedOver -> {});
            return found == null ? null : found.manifest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        runs.values().stream().filter(run -> run.reference != null).forEach(run -> run.reference.close());
    }
}
