package dev.streamtune.trainer.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Split;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.training.TrainingSession;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Runs, their transitions, steps and checkpoints in PostgreSQL. Called from the training threads (each call its own
 * transaction, off the event loop) and from the REST resources. Every failure of a transaction is a
 * {@link RunStoreUnavailableException}, which a training thread takes as an infrastructure failure.
 */
@ApplicationScoped
public class RunStore implements RunLedger {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = Logger.getLogger(RunStore.class);

    /** Step rows handed over and not yet known written, per run, oldest first. */
    private final Map<String, Deque<Future<?>>> pendingSteps = new ConcurrentHashMap<>();
    /** Step updates handed over and not yet taken by the writer, in order. */
    private final Queue<StepUpdate> unwritten = new ConcurrentLinkedQueue<>();
    /** A run's rows that could not be written: rethrown by its next {@code stepDone}. */
    private final Map<String, RuntimeException> failedRows = new ConcurrentHashMap<>();

    private final ExecutorService stepRows = Executors.newSingleThreadExecutor(task -> {
        Thread writer = new Thread(task, "trainer-step-rows");
        writer.setDaemon(true);
        return writer;
    });

    @Override
    public TrainingRun open(
            String runId, String recipeId, String recipeHash, String method, String model, Long maxSteps) {
        settle(runId);
        return read(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            if (run == null) {
                run = new TrainingRun();
                run.id = runId;
                run.recipeId = recipeId;
                run.recipeHash = recipeHash;
                run.method = method;
                run.model = model.length() > 1000 ? model.substring(0, 1000) : model;
                run.state = RunState.STARTING;
                run.maxSteps = maxSteps;
                run.createdAt = Instant.now();
                run.updatedAt = run.createdAt;
                run.persist();
                record(runId, null, RunState.STARTING, "recipe " + recipeId + " received");
            }
            return run;
        });
    }

    public Optional<TrainingRun> find(String runId) {
        settle(runId);
        return read(() -> Optional.ofNullable(TrainingRun.<TrainingRun>findById(runId)));
    }

    public List<TrainingRun> all() {
        settleAll();
        return read(() -> TrainingRun.<TrainingRun>list("order by createdAt desc"));
    }

    @Override
    public void transition(String runId, RunState state, String reason) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            if (run != null) {
                move(run, state, reason);
            }
        });
    }

    @Override
    public void retire(String runId, String reason) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            if (run != null) {
                retireIfTraining(run, reason);
            }
        });
    }

    @Override
    public void retireOthers(String recipeId, String runId, String reason) {
        settleAll();
        write(() -> {
            for (TrainingRun run : TrainingRun.<TrainingRun>list("recipeId = ?1 and id <> ?2", recipeId, runId)) {
                retireIfTraining(run, reason);
            }
        });
    }

    @Override
    public void reactivate(String runId, String reason) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            if (run != null && run.retired) {
                move(run, RunState.STARTING, reason);
                run.retired = false;
            }
        });
    }

    /** STOPPED and marked retired, when it was training; a run that had ended keeps its state. */
    private static void retireIfTraining(TrainingRun run, String reason) {
        if (run.state.trains()) {
            move(run, RunState.STOPPED, reason);
            run.retired = true;
        }
    }

    private static void move(TrainingRun run, RunState state, String reason) {
        if (run.state == state) {
            return;
        }
        record(run.id, run.state, state, reason);
        run.state = state;
        run.failure = state == RunState.FAILED ? reason : null;
        run.updatedAt = Instant.now();
    }

    @Override
    public void started(String runId, String device, String dtype, long step, long tokensSeen) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            run.device = device;
            run.dtype = dtype;
            run.step = step;
            run.tokensSeen = tokensSeen;
            run.updatedAt = Instant.now();
            // steps past the checkpoint the run starts from were lost with the process that trained them
            TrainingStepRow.delete("runId = ?1 and step > ?2", runId, step);
        });
    }

    @Override
    public void length(String runId, long steps) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            run.maxSteps = steps;
        });
    }

    @Override
    public void startOffsets(String runId, Map<Integer, Long> offsets) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            run.startOffsets = json(offsets);
        });
    }

    /**
     * One optimiser step: its row (replacing one trained before a resume) and the run's figures, written behind the
     * training thread by one writer, in the order handed over: the training thread does not wait for the database
     * between steps, which cost a small model a large share of its step (docs/PERFORMANCE.md). The writer takes every
     * row waiting when it comes round and writes each run's in one transaction, so it keeps up with steps shorter than
     * a transaction (a small model).
     * Every other call about the run first waits for its rows handed over so far ({@link #settle}), so what anyone
     * reads or writes next comes after them. A row that cannot be written is logged and fails the run's next
     * {@code stepDone}, on the training thread. The row's time is when the step was handed over, not when written.
     */
    @Override
    public void stepDone(
            String runId,
            TrainingSession.Step step,
            long tokensSeen,
            double tokensPerSecond,
            double nextLearningRate,
            Double epoch) {
        reportLostSteps(runId);
        Deque<Future<?>> pending = pendingSteps.computeIfAbsent(runId, id -> new ConcurrentLinkedDeque<>());
        for (Future<?> written = pending.peek(); written != null && written.isDone(); written = pending.peek()) {
            pending.poll();
        }
        unwritten.add(new StepUpdate(runId, step, tokensSeen, tokensPerSecond, nextLearningRate, epoch, Instant.now()));
        pending.add(stepRows.submit(this::writeUnwritten));
    }

    /** A step's row and the run's figures after it, waiting for the writer. */
    private record StepUpdate(
            String runId,
            TrainingSession.Step step,
            long tokensSeen,
            double tokensPerSecond,
            double nextLearningRate,
            Double epoch,
            Instant at) {}

    /** On the writer: everything handed over so far (the rows of later turns, already written, leave nothing). */
    private void writeUnwritten() {
        Map<String, List<StepUpdate>> byRun = new LinkedHashMap<>();
        for (StepUpdate update = unwritten.poll(); update != null; update = unwritten.poll()) {
            byRun.computeIfAbsent(update.runId(), id -> new ArrayList<>()).add(update);
        }
        byRun.forEach((runId, updates) -> {
            try {
                writeSteps(runId, updates);
            } catch (RuntimeException e) {
                LOG.warnf(
                        e,
                        "run %s: the rows of steps %s to %s were not written",
                        runId,
                        updates.get(0).step().step(),
                        updates.get(updates.size() - 1).step().step());
                failedRows.putIfAbsent(runId, e);
            }
        });
    }

    private void writeSteps(String runId, List<StepUpdate> updates) {
        // a step trained again after a restart in this process may wait beside its first row: the newest one stands
        Map<Long, StepUpdate> newest = new LinkedHashMap<>();
        updates.forEach(update -> newest.put(update.step().step(), update));
        write(() -> {
            TrainingStepRow.delete("runId = ?1 and step in (?2)", runId, List.copyOf(newest.keySet()));
            for (StepUpdate update : newest.values()) {
                TrainingSession.Step step = update.step();
                TrainingStepRow row = new TrainingStepRow();
                row.runId = runId;
                row.step = step.step();
                row.loss = step.loss();
                row.learningRate = step.learningRate();
                row.gradNorm = step.gradNorm();
                row.trainedTokens = step.trainedTokens();
                row.seconds = step.seconds();
                row.at = update.at();
                row.persist();
            }
            StepUpdate last = updates.get(updates.size() - 1);
            TrainingRun run = TrainingRun.findById(runId);
            run.step = last.step().step();
            run.tokensSeen = last.tokensSeen();
            run.lastLoss = last.step().loss();
            run.gradNorm = last.step().gradNorm();
            run.learningRate = last.nextLearningRate();
            run.tokensPerSecond = last.tokensPerSecond();
            run.epoch = last.epoch();
            run.updatedAt = last.at();
        });
    }

    @Override
    public void stepsRecorded(String runId) {
        settle(runId);
        reportLostSteps(runId);
    }

    @Override
    public void reportLostSteps(String runId) {
        RuntimeException failed = failedRows.remove(runId);
        if (failed != null) {
            throw RunStoreUnavailableException.of(failed);
        }
    }

    /** Waits until the run's step rows handed to {@link #stepDone} so far are written (or have failed). */
    public void settle(String runId) {
        Deque<Future<?>> pending = pendingSteps.get(runId);
        if (pending != null) {
            pending.forEach(RunStore::await);
        }
    }

    private void settleAll() {
        pendingSteps.keySet().forEach(this::settle);
    }

    private static void await(Future<?> written) {
        try {
            written.get();
        } catch (ExecutionException e) {
            // the writer records a run's failed rows itself (failedRows): nothing else is thrown there
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for step rows", e);
        }
    }

    /** Writes the rows still pending when the service stops. */
    @PreDestroy
    void close() throws InterruptedException {
        stepRows.shutdown();
        stepRows.awaitTermination(30, TimeUnit.SECONDS);
    }

    /**
     * A page of the run's step rows in step order: from step {@code from} on, every {@code stride}-th step (those
     * whose number is a multiple of it: a long run's curve thinned out), at most {@code limit} of them.
     */
    public List<TrainingStepRow> steps(String runId, long from, int limit, int stride) {
        settle(runId);
        return read(() -> TrainingStepRow.<TrainingStepRow>find(
                        "runId = ?1 and step >= ?2 and mod(step, ?3) = 0 order by step", runId, from, (long) stride)
                .page(0, limit)
                .list());
    }

    public List<TrainingStepRow> lastSteps(String runId, int count) {
        settle(runId);
        return read(() -> TrainingStepRow.<TrainingStepRow>find("runId = ?1 order by step desc", runId)
                .page(0, count)
                .list());
    }

    @Override
    public void checkpointWritten(String runId, Manifest manifest, String location) {
        settle(runId);
        write(() -> {
            SavedCheckpointRow.delete("runId = ?1 and step = ?2", runId, manifest.step());
            SavedCheckpointRow row = new SavedCheckpointRow();
            row.runId = runId;
            row.step = manifest.step();
            row.location = location;
            row.format = manifest.format();
            row.checksum = manifest.checksum();
            row.tokensSeen = manifest.tokensSeen();
            row.trainLoss = manifest.trainLoss();
            row.consumedOffsets = json(manifest.consumedOffsets());
            row.startOffsets = json(manifest.startOffsets());
            Map<Integer, Long> trained = new TreeMap<>(manifest.consumedOffsets());
            if (manifest.epochEnd() != null) {
                manifest.epochEnd().forEach((partition, end) -> trained.merge(partition, end, Math::max));
            }
            row.trainedOffsets = json(trained);
            row.status = SavedCheckpointStatus.AVAILABLE;
            row.createdAt = manifest.createdAt();
            row.persist();
        });
    }

    @Override
    public void checkpointPublished(String runId, long step) {
        settle(runId);
        write(() -> SavedCheckpointRow.update("published = true where runId = ?1 and step = ?2", runId, step));
    }

    @Override
    public void checkpointStatus(String runId, Collection<Long> steps, SavedCheckpointStatus status) {
        settle(runId);
        if (steps.isEmpty()) {
            return;
        }
        write(() -> SavedCheckpointRow.update("status = ?1 where runId = ?2 and step in ?3", status, runId, steps));
    }

    public List<SavedCheckpointRow> checkpoints(String runId) {
        settle(runId);
        return read(() -> SavedCheckpointRow.<SavedCheckpointRow>list("runId = ?1 order by step", runId));
    }

    @Override
    public boolean published(String runId, long step) {
        return checkpoint(runId, step).map(row -> row.published).orElse(false);
    }

    @Override
    public Map<Long, Instant> awaitingEvaluation(String runId) {
        settle(runId);
        return read(() -> {
            Map<Long, Instant> awaiting = new TreeMap<>();
            SavedCheckpointRow.<SavedCheckpointRow>list(
                            "runId = ?1 and status = ?2 and step not in (select e.step from"
                                    + " RunEvaluation e where e.runId = ?1)",
                            runId,
                            SavedCheckpointStatus.AVAILABLE)
                    .forEach(row -> awaiting.put(row.step, row.createdAt));
            return awaiting;
        });
    }

    public Optional<SavedCheckpointRow> checkpoint(String runId, long step) {
        settle(runId);
        return read(() -> SavedCheckpointRow.<SavedCheckpointRow>find("runId = ?1 and step = ?2", runId, step)
                .firstResultOptional());
    }

    @Override
    public void batchRejected(String runId, int partition, long offset, String reason) {
        settle(runId);
        write(() -> {
            if (RejectedBatch.count("runId = ?1 and partition = ?2 and offset = ?3", runId, partition, offset) > 0) {
                return;
            }
            RejectedBatch row = new RejectedBatch();
            row.runId = runId;
            row.partition = partition;
            row.offset = offset;
            row.reason = reason;
            row.at = Instant.now();
            row.persist();
        });
    }

    /** The batches of a run that were not trained, as "partition@offset". */
    public Set<String> rejectedBatches(String runId) {
        settle(runId);
        return read(() -> RejectedBatch.<RejectedBatch>list("runId", runId).stream()
                .map(row -> row.partition + "@" + row.offset)
                .collect(Collectors.toSet()));
    }

    /**
     * Records an evaluation of one of the run's checkpoints (again: replaced), one that carries an error (eval-service
     * could not score the checkpoint) included, and returns the run's validation scores; empty when the run is not
     * known here.
     */
    public Optional<List<EarlyStopping.Score>> evaluation(Evaluation evaluation) {
        return read(() -> {
            if (TrainingRun.findById(evaluation.runId()) == null) {
                return Optional.<List<EarlyStopping.Score>>empty();
            }
            String split = evaluation.split().wireName();
            RunEvaluation.delete(
                    "runId = ?1 and step = ?2 and split = ?3", evaluation.runId(), evaluation.checkpointStep(), split);
            RunEvaluation row = new RunEvaluation();
            row.runId = evaluation.runId();
            row.step = evaluation.checkpointStep();
            row.split = split;
            row.loss = finite(evaluation.loss());
            row.perplexity = finite(evaluation.perplexity());
            row.tokenAccuracy = finite(evaluation.tokenAccuracy());
            row.error = evaluation.error();
            row.evaluatedAt = evaluation.evaluatedAt();
            row.persist();
            return Optional.of(scores(evaluation.runId()));
        });
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }

    @Override
    public List<EarlyStopping.Score> validationScores(String runId) {
        settle(runId);
        return read(() -> scores(runId));
    }

    private static List<EarlyStopping.Score> scores(String runId) {
        return RunEvaluation.<RunEvaluation>list(
                        "runId = ?1 and split = ?2 and loss is not null order by step", runId, Split.VALID.wireName())
                .stream()
                .map(e -> new EarlyStopping.Score(e.step, e.loss))
                .toList();
    }

    @Override
    public void best(String runId, Long step, Double validLoss) {
        settle(runId);
        write(() -> {
            TrainingRun run = TrainingRun.findById(runId);
            if (run != null) {
                run.bestStep = step;
                run.bestValidLoss = validLoss;
            }
        });
    }

    public List<RunEvaluation> evaluations(String runId) {
        settle(runId);
        return read(() -> RunEvaluation.<RunEvaluation>list("runId = ?1 order by step, split", runId));
    }

    public List<RunTransition> transitions(String runId) {
        settle(runId);
        return read(() -> RunTransition.<RunTransition>list("runId = ?1 order by id", runId));
    }

    private static void write(Runnable work) {
        try {
            QuarkusTransaction.requiringNew().run(work);
        } catch (RuntimeException e) {
            throw RunStoreUnavailableException.of(e);
        }
    }

    private static <T> T read(Callable<T> work) {
        try {
            return QuarkusTransaction.requiringNew().call(work);
        } catch (RuntimeException e) {
            throw RunStoreUnavailableException.of(e);
        }
    }

    private static void record(String runId, RunState from, RunState to, String reason) {
        RunTransition transition = new RunTransition();
        transition.runId = runId;
        transition.fromState = from;
        transition.toState = to;
        transition.reason = reason;
        transition.at = Instant.now();
        transition.persist();
    }

    public static String json(Map<Integer, Long> offsets) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(offsets == null ? Map.of() : offsets));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<Integer, Long> offsets(String json) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<Integer, Long>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored offsets are not a JSON object of partition to offset: " + json, e);
        }
    }
}
