package dev.streamtune.trainer.worker;

import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunLedger;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.training.TrainingSession;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run ledger of {@code RunStore} kept in memory, with its semantics (a transition to the state a run is in
 * records nothing; a retired run is STOPPED and comes back by itself; a step trained again replaces its row; an
 * evaluation again replaces the earlier one), so that the worker's life cycle can be driven through thousands of
 * events without a database. {@link #failNextCall} makes the next call fail as a lost connection would:
 * {@code RunStoreIT} holds the PostgreSQL store to the same contract.
 */
final class InMemoryRunLedger implements RunLedger {

    /** One run as the store keeps it. */
    static final class Run {
        final TrainingRun row = new TrainingRun();
        final List<String> transitions = new ArrayList<>();
        final TreeMap<Long, TrainingSession.Step> steps = new TreeMap<>();
        final TreeMap<Long, SavedCheckpointStatus> checkpointStatus = new TreeMap<>();
        final Map<Long, Instant> checkpointWritten = new TreeMap<>();
        final Map<Long, Boolean> published = new TreeMap<>();
        /** step -> split -> loss (null: an evaluation that carried an error) */
        final TreeMap<Long, Map<String, Double>> evaluations = new TreeMap<>();

        final List<String> rejectedBatches = new ArrayList<>();
        Map<Integer, Long> startOffsets;
    }

    private final Map<String, Run> runs = new LinkedHashMap<>();
    private int failuresPending;
    private String failingCall;
    private int failures;
    private boolean loseNextStepRow;
    private RunStoreUnavailableException lostRow;

    /** The next call fails, whichever it is, as a dropped database connection would. */
    synchronized void failNextCall() {
        failuresPending++;
    }

    /** The next call of {@code method} (a method of RunLedger) fails, as a dropped database connection would. */
    synchronized void failNext(String method) {
        failingCall = method;
    }

    synchronized int failures() {
        return failures;
    }

    private void call() {
        String method = StackWalker.getInstance()
                .walk(frames -> frames.skip(1).findFirst().orElseThrow().getMethodName());
        if (method.equals(failingCall)) {
            failingCall = null;
            failures++;
            throw new RunStoreUnavailableException(
                    "the run store (PostgreSQL) failed in " + method + ": connection lost (injected)",
                    new IllegalStateException("injected"));
        }
        if (failuresPending > 0) {
            failuresPending--;
            failures++;
            throw new RunStoreUnavailableException(
                    "the run store (PostgreSQL) failed: connection lost (injected)",
                    new IllegalStateException("injected"));
        }
    }

    synchronized Run run(String runId) {
        return runs.get(runId);
    }

    synchronized Map<String, Run> runs() {
        return Map.copyOf(runs);
    }

    @Override
    public synchronized TrainingRun open(
            String runId, String recipeId, String recipeHash, String method, String model, Long maxSteps) {
        call();
        Run run = runs.get(runId);
        if (run == null) {
            run = new Run();
            run.row.id = runId;
            run.row.recipeId = recipeId;
            run.row.recipeHash = recipeHash;
            run.row.method = method;
            run.row.model = model;
            run.row.state = RunState.STARTING;
            run.row.maxSteps = maxSteps;
            run.row.createdAt = Instant.EPOCH;
            run.transitions.add("-> STARTING: recipe " + recipeId + " received");
            runs.put(runId, run);
        }
        TrainingRun copy = new TrainingRun();
        copy.id = run.row.id;
        copy.state = run.row.state;
        copy.retired = run.row.retired;
        return copy;
    }

    @Override
    public synchronized void transition(String runId, RunState state, String reason) {
        call();
        Run run = runs.get(runId);
        if (run != null) {
            move(run, state, reason);
        }
    }

    private static void move(Run run, RunState state, String reason) {
        if (run.row.state == state) {
            return;
        }
        run.transitions.add(run.row.state + " -> " + state + ": " + reason);
        run.row.state = state;
        run.row.failure = state == RunState.FAILED ? reason : null;
    }

    @Override
    public synchronized void retire(String runId, String reason) {
        call();
        Run run = runs.get(runId);
        if (run != null) {
            retireIfTraining(run, reason);
        }
    }

    private static void retireIfTraining(Run run, String reason) {
        if (run.row.state.trains()) {
            move(run, RunState.STOPPED, reason);
            run.row.retired = true;
        }
    }

    @Override
    public synchronized void retireOthers(String recipeId, String runId, String reason) {
        call();
        for (Run run : runs.values()) {
            if (run.row.recipeId.equals(recipeId) && !run.row.id.equals(runId)) {
                retireIfTraining(run, reason);
            }
        }
    }

    /**
     * The next step's row is lost as RunStore's writer, behind the training thread, loses one: the call returns, and
     * the failure is reported by the next {@code stepDone} or {@code stepsRecorded}.
     */
    synchronized void loseNextStepRow() {
        loseNextStepRow = true;
    }

    /** Forgets failures asked for that no call met. */
    synchronized void clearFailures() {
        failuresPending = 0;
        failingCall = null;
        loseNextStepRow = false;
    }

    @Override
    public synchronized void reactivate(String runId, String reason) {
        call();
        Run run = runs.get(runId);
        if (run != null && run.row.retired) {
            move(run, RunState.STARTING, reason);
            run.row.retired = false;
        }
    }

    @Override
    public synchronized void started(String runId, String device, String dtype, long step, long tokensSeen) {
        call();
        Run run = runs.get(runId);
        run.row.device = device;
        run.row.dtype = dtype;
        run.row.step = step;
        run.row.tokensSeen = tokensSeen;
        run.steps.tailMap(step, false).clear();
    }

    @Override
    public synchronized void length(String runId, long steps) {
        call();
        runs.get(runId).row.maxSteps = steps;
    }

    @Override
    public synchronized void startOffsets(String runId, Map<Integer, Long> offsets) {
        call();
        runs.get(runId).startOffsets = Map.copyOf(offsets);
    }

    @Override
    public synchronized void stepDone(
            String runId,
            TrainingSession.Step step,
            long tokensSeen,
            double tokensPerSecond,
            double nextLearningRate,
            Double epoch) {
        call();
        reportLostRow();
        if (loseNextStepRow) {
            loseNextStepRow = false;
            failures++;
            lostRow = new RunStoreUnavailableException(
                    "the run store (PostgreSQL) failed: the row of step " + step.step() + " was not written (injected)",
                    new IllegalStateException("injected"));
            return;
        }
        Run run = runs.get(runId);
        run.steps.put(step.step(), step);
        run.row.step = step.step();
        run.row.tokensSeen = tokensSeen;
        run.row.lastLoss = step.loss();
        run.row.epoch = epoch;
    }

    @Override
    public synchronized void stepsRecorded(String runId) {
        call();
        reportLostRow();
    }

    @Override
    public synchronized void reportLostSteps(String runId) {
        reportLostRow();
    }

    private void reportLostRow() {
        RunStoreUnavailableException lost = lostRow;
        if (lost != null) {
            lostRow = null;
            throw lost;
        }
    }

    @Override
    public synchronized void checkpointWritten(String runId, Manifest manifest, String location) {
        call();
        Run run = runs.get(runId);
        run.checkpointStatus.put(manifest.step(), SavedCheckpointStatus.AVAILABLE);
        run.checkpointWritten.put(manifest.step(), manifest.createdAt());
        run.published.put(manifest.step(), false);
    }

    @Override
    public synchronized void checkpointPublished(String runId, long step) {
        call();
        runs.get(runId).published.put(step, true);
    }

    @Override
    public synchronized boolean published(String runId, long step) {
        call();
        return runs.get(runId).published.getOrDefault(step, false);
    }

    @Override
    public synchronized void checkpointStatus(String runId, Collection<Long> steps, SavedCheckpointStatus status) {
        if (steps.isEmpty()) {
            return;
        }
        call();
        Run run = runs.get(runId);
        steps.forEach(step -> {
            if (run.checkpointStatus.containsKey(step)) {
                run.checkpointStatus.put(step, status);
            }
        });
    }

    @Override
    public synchronized void batchRejected(String runId, int partition, long offset, String reason) {
        call();
        String key = partition + "@" + offset;
        if (!runs.get(runId).rejectedBatches.contains(key)) {
            runs.get(runId).rejectedBatches.add(key);
        }
    }

    @Override
    public synchronized List<EarlyStopping.Score> validationScores(String runId) {
        call();
        return scores(runs.get(runId));
    }

    private static List<EarlyStopping.Score> scores(Run run) {
        List<EarlyStopping.Score> scores = new ArrayList<>();
        run.evaluations.forEach((step, splits) -> {
            Double loss = splits.get("valid");
            if (loss != null) {
                scores.add(new EarlyStopping.Score(step, loss));
            }
        });
        return scores;
    }

    @Override
    public synchronized Map<Long, Instant> awaitingEvaluation(String runId) {
        call();
        Run run = runs.get(runId);
        Map<Long, Instant> awaiting = new TreeMap<>();
        run.checkpointStatus.forEach((step, status) -> {
            if (SavedCheckpointStatus.AVAILABLE.equals(status) && !run.evaluations.containsKey(step)) {
                awaiting.put(step, run.checkpointWritten.get(step));
            }
        });
        return awaiting;
    }

    @Override
    public synchronized void best(String runId, Long step, Double validLoss) {
        call();
        Run run = runs.get(runId);
        run.row.bestStep = step;
        run.row.bestValidLoss = validLoss;
    }

    /** What the evaluation feed records for an evaluation that arrived; returns the run's validation scores. */
    synchronized List<EarlyStopping.Score> evaluation(String runId, long step, String split, Double loss) {
        Run run = runs.get(runId);
        run.evaluations.computeIfAbsent(step, s -> new TreeMap<>()).put(split, loss);
        return scores(run);
    }
}
