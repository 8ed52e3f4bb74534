package dev.streamtune.trainer.worker;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.streamtune.events.CheckpointEvent;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.NativeAllocator;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import dev.streamtune.streams.StartOverException;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.run.CheckpointRow;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.RunStore;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.MalformedBatchException;
import dev.streamtune.trainer.training.TrainingSession;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A recipe's training run on the stage framework: reads {@code batches} in the group
 * {@code trainer-service.<recipe id>}, trains each of the recipe's batches as a micro-batch, and writes a
 * checkpoint every {@code save_steps} optimiser steps, at max_steps, when the stream goes quiet and when the run is
 * stopped.
 *
 * <p>Progress lives in the checkpoints, not in the group's commits: at every (re)start the run loads its newest
 * complete checkpoint and reads each partition from the offsets stored in it ({@link #positionsOnAssignment}),
 * so a crash, a stop or a new pod neither skips nor repeats a batch, and the time to resume does not depend on how
 * far the run is. Each batch read is held on the commit watermark until the checkpoint that covers it is
 * acknowledged on {@code checkpoints}, so the group's committed offsets trail the checkpoints too (the lag users see).
 */
public final class TrainWorker extends RecipeStreamWorker {

    private static final System.Logger LOG = System.getLogger(TrainWorker.class.getName());
    public static final String TRAINED = "trained";
    public static final String IGNORED = "ignored";

    private final TrainingPlan plan;
    private final String runId;
    private final String recipeHash;
    private final RunStore runs;
    private final TrainerMetrics metrics;
    private final CheckpointStore checkpoints;
    private final Duration checkpointWhenIdle;
    private final TrainBatchDeserializer batches = new TrainBatchDeserializer();

    private TrainingSession session;
    private volatile boolean stopRequested;
    /** What a requested stop ends in: STOPPED (a user's stop, resumable) or FINISHED (early stopping). */
    private volatile RunState stopState = RunState.STOPPED;
    private volatile String stopReason;
    /** Nothing more is trained in this session (finished, failed or stopped): its partitions are pinned, not committed. */
    private volatile boolean done;
    private volatile String device = "?";
    private volatile String dtype = "?";
    private Map<Integer, Long> startOffsets;
    private Map<Integer, Long> resumeOffsets;
    private final Map<Integer, Long> consumed = new HashMap<>();
    private final List<InputOffset> sinceCheckpoint = new ArrayList<>();
    private final List<Long> awaitingAcknowledgement = new ArrayList<>();
    private long tokensSeen;
    private long lastBatchSequence = -1;
    private double lastLoss = Double.NaN;
    private long stepsSinceCheckpoint;
    private long lastActivity = System.nanoTime();
    /** Batches trained by the run, replays included. */
    private long microBatches;
    /** Per partition, the end of the data once the first pass closed (runs with epochs); null before. */
    private Map<Integer, Long> epochEnd;
    /** Batches in one pass over the data, once the first pass closed. */
    private Long epochBatches;
    /** Good batches read by a first pass that only counts them (a run whose length comes from its data). */
    private long surveyed;
    /** A replay was asked for: the rest of this poll's records come before it and are not trained. */
    private boolean rewinding;

    private final Duration streamEndAfter;
    private final java.util.function.Supplier<String> batchesTopicIds;
    /** Kafka's id of the batches topic when this worker started: its checkpoints' offsets refer to that log. */
    private String batchesTopicId;

    public TrainWorker(StageContext context, TrainingPlan plan, String runId, String recipeHash, RunStore runs,
                       TrainerMetrics metrics, Path checkpointRoot, Duration checkpointWhenIdle, Duration streamEndAfter,
                       java.util.function.Supplier<String> batchesTopicIds) {
        super(context, plan.recipeId(), Topics.BATCHES);
        this.plan = plan;
        this.runId = runId;
        this.recipeHash = recipeHash;
        this.runs = runs;
        this.metrics = metrics;
        this.checkpoints = new CheckpointStore(checkpointRoot, plan.recipeId(), runId);
        this.checkpointWhenIdle = checkpointWhenIdle;
        this.streamEndAfter = streamEndAfter;
        this.batchesTopicIds = batchesTopicIds;
    }

    public TrainingPlan plan() {
        return plan;
    }

    public String runId() {
        return runId;
    }

    public String device() {
        return device + " " + dtype;
    }

    @Override
    protected Duration pollTimeout() {
        return Duration.ofMillis(500);
    }

    /** Loads the model, restores the newest complete checkpoint (if any) and records where the run stands. */
    @Override
    protected void starting() {
        closeSession();
        done = false;
        stopRequested = false;
        stopState = RunState.STOPPED;
        stopReason = null;
        consumed.clear();
        sinceCheckpoint.clear();
        awaitingAcknowledgement.clear();
        stepsSinceCheckpoint = 0;
        rewinding = false;
        TrainingRun run = runs.open(runId, plan.recipeId(), recipeHash, plan.method().name().toLowerCase(),
                plan.describeModel(), plan.maxSteps());
        if (!run.state.trains()) {
            done = true;
            LOG.log(Level.INFO, "run " + runId + " is " + run.state + ": not training");
            return;
        }
        batchesTopicId = batchesTopicIds.get(); // before anything is loaded: without the broker, start over later
        runs.transition(runId, RunState.STARTING, "loading the model and the newest checkpoint");
        Device chosen = Compute.device();
        metrics.gpu(chosen);
        Precision type = plan.precisionOn(chosen);
        device = chosen.toString();
        dtype = type.compute().toString().toLowerCase();
        try {
            openSession(type, chosen);
            String from;
            try {
                from = restoreNewestCheckpoint(type, chosen);
            } catch (TopicRecreatedException e) {
                end(RunState.FAILED, e.getMessage());
                LOG.log(Level.WARNING, e.getMessage());
                return;
            }
            runs.started(runId, device, dtype, session.step(), tokensSeen);
            if ((plan.maxSteps() != null && session.step() >= plan.maxSteps() && !plan.continuous())
                    || (epochBudget() != null && microBatches >= epochBudget())) {
                // a crash after the last checkpoint but before the run was recorded as finished
                end(RunState.FINISHED, "reached max_steps " + plan.maxSteps() + " (" + from + ")");
                return;
            }
            // evaluations that landed while no worker trained the run (before a restart, while it was stopped)
            judge(runs.validationScores(runId));
            if (stopRequested) {
                honourStop(); // early stopping decided meanwhile: nothing more to train
                return;
            }
            runs.transition(runId, RunState.RUNNING, from);
            LOG.log(Level.INFO, "run " + runId + " on " + device + " " + type + ": " + from + "; "
                    + plan.method() + ", " + session.tuning().trainableParameterCount() + " trainable parameters, "
                    + plan.describeModel());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("run " + runId + " cannot load its model: " + e.getMessage(), e);
        }
    }

    /** Restores the newest checkpoint that verifies; corrupt ones are reported and passed over. */
    private String restoreNewestCheckpoint(Precision type, Device chosen) throws IOException {
        resumeOffsets = null;
        startOffsets = null;
        tokensSeen = 0;
        lastBatchSequence = -1;
        microBatches = 0;
        epochEnd = null;
        epochBatches = null;
        surveyed = 0;
        for (CheckpointStore.Found found : checkpoints.list()) {
            if (!found.valid()) {
                LOG.log(Level.WARNING, "run " + runId + ": checkpoint-" + found.step() + " is unusable, passing over"
                        + " it: " + found.problem());
                runs.checkpointStatus(runId, List.of(found.step()), CheckpointRow.CORRUPT);
                metrics.corruptCheckpoint(plan.recipeId());
                continue;
            }
            Manifest manifest = found.manifest();
            if (manifest.batchesTopicId() != null && !manifest.batchesTopicId().equals(batchesTopicId)) {
                // Not a damaged checkpoint: a sound one whose offsets point into a log that no longer exists. Passing
                // over it to an older one would meet the same; starting from the base would write over these files.
                throw new TopicRecreatedException("run " + runId + ": " + found.folder().getFileName() + " was trained "
                        + "from an earlier '" + Topics.BATCHES + "' topic (id " + manifest.batchesTopicId() + "; the "
                        + "topic now has id " + batchesTopicId + ": it was deleted and created again), so its offsets "
                        + "do not apply. To train again from the start, move " + checkpoints.runFolder()
                        + " away, or post the recipe under a new name");
            }
            try {
                if (plan.lengthFromData() && manifest.epochBatches() != null) {
                    session.runLength(plan.stepsFor(manifest.epochBatches()));
                }
                session.restoreState(found.folder(), manifest.gateSchedule());
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "run " + runId + ": checkpoint-" + found.step() + " cannot be restored: "
                        + e.getMessage());
                runs.checkpointStatus(runId, List.of(found.step()), CheckpointRow.CORRUPT);
                metrics.corruptCheckpoint(plan.recipeId());
                closeSession(); // a half-applied restore: start again from clean weights
                openSession(type, chosen);
                continue;
            }
            resumeOffsets = Map.copyOf(manifest.consumedOffsets());
            startOffsets = Map.copyOf(manifest.startOffsets());
            tokensSeen = manifest.tokensSeen();
            lastBatchSequence = manifest.lastBatchSequence();
            lastLoss = manifest.trainLoss();
            microBatches = manifest.microBatches();
            epochEnd = manifest.epochEnd() == null ? null : Map.copyOf(manifest.epochEnd());
            epochBatches = manifest.epochBatches();
            republishIfUnacknowledged(manifest, found.folder());
            return "resumed at step " + manifest.step() + " from " + found.folder().getFileName() + ", reading batches"
                    + " from offsets " + resumeOffsets;
        }
        return "started from the base model, reading batches from the beginning";
    }

    /** A checkpoint written just before a crash may never have been announced: announce it now. */
    private void republishIfUnacknowledged(Manifest manifest, Path folder) {
        boolean published = runs.checkpoint(runId, manifest.step()).map(row -> row.published).orElse(false);
        if (!published) {
            runs.checkpointWritten(runId, manifest, folder.toUri().toString());
            context().publisher().publish(new Outgoing(Topics.CHECKPOINTS, plan.recipeId(), event(manifest, folder)));
            runs.checkpointPublished(runId, manifest.step());
        }
    }

    @Override
    protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
        Map<TopicPartition, Long> positions = new HashMap<>();
        for (TopicPartition partition : assigned) {
            // A run that trains nothing in this session (finished, stopped, failed) reads nothing; a resume starts a
            // new worker, which reads from the checkpoint. A partition the checkpoint does not mention held none of
            // this run's batches then: its beginning.
            long position = done ? END
                    : resumeOffsets == null ? 0L : resumeOffsets.getOrDefault(partition.partition(), 0L);
            positions.put(partition, position);
        }
        return positions;
    }

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        if (!plan.recipeId().equals(record.key())) {
            counts().count(IGNORED, null); // another recipe's batch on the same partition
            return;
        }
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (done || session == null) {
            // Nothing more is trained in this worker's life: the run's group stays where its training stopped, and a
            // resume reads from its checkpoint. One pin per partition, not a hold and a lineage entry for every batch
            // that keeps arriving for a finished recipe, which would grow for as long as the service runs.
            watermark().pin(partition, record.offset());
            counts().count(IGNORED, null);
            return;
        }
        watermark().hold(partition, record.offset());
        sinceCheckpoint.add(InputOffset.of(record));
        if (rewinding || (epochEnd != null && record.offset() >= epochEnd.getOrDefault(record.partition(), 0L))) {
            // read again before a replay; or past the data of a run with epochs, whose data is what had arrived when
            // its first pass closed
            counts().count(IGNORED, null);
            return;
        }
        lastActivity = System.nanoTime();
        if (startOffsets == null) {
            startOffsets = Map.of(record.partition(), record.offset());
            runs.startOffsets(runId, startOffsets);
        }
        if (plan.lengthFromData() && epochEnd == null) {
            survey(record);
            return;
        }
        BatchTensors tensors;
        TrainBatch batch;
        try {
            batch = batches.deserialize(record.topic(), record.value());
            tensors = BatchTensors.of(batch, session.model().vocabSize(), session.model().maxPositions());
        } catch (RuntimeException e) {
            consumed.put(record.partition(), record.offset() + 1);
            badBatch(record, e);
            throw e instanceof MalformedBatchException ? e : new MalformedBatchException(e.getMessage());
        }
        TrainingSession.Step step;
        try {
            step = session.train(tensors);
        } catch (RuntimeException e) {
            // Gradients may be half accumulated: the run's state is in doubt, not the batch.
            throw new StartOverException("run " + runId + ": a training step failed: " + e.getMessage(), e);
        }
        consumed.put(record.partition(), record.offset() + 1);
        tokensSeen += batch.trainableTokens();
        lastBatchSequence = batch.sequenceNumber();
        microBatches++;
        counts().count(TRAINED, null);
        if (step != null) {
            stepDone(step);
            boolean finished = plan.maxSteps() != null && step.step() >= plan.maxSteps() && !plan.continuous();
            if (step.step() % plan.saveSteps() == 0 || finished
                    || (plan.maxSteps() != null && step.step() == plan.maxSteps())) {
                checkpoint(out);
            }
            if (finished) {
                end(RunState.FINISHED, "reached max_steps " + plan.maxSteps());
                LOG.log(Level.INFO, "run " + runId + " finished at step " + step.step());
            }
        }
        if (epochEnd != null && !done) {
            endOfData(out);
        }
    }

    /**
     * The first pass of a run whose length comes from its data: the batch is counted, not trained (every pass,
     * this one replayed first, trains once the length is known). A batch that cannot be trained is not counted; the
     * training pass dead-letters it, once.
     */
    private void survey(ConsumerRecord<String, byte[]> record) {
        try {
            BatchTensors.of(batches.deserialize(record.topic(), record.value()), session.model().vocabSize(),
                    session.model().maxPositions());
            surveyed++;
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "run " + runId + ": batch at offset " + record.offset() + " is not counted: "
                    + e.getMessage());
        }
        consumed.put(record.partition(), record.offset() + 1);
        counts().count(IGNORED, null); // read again, and trained, once the first pass closes
    }

    /**
     * Epochs over a stream. The first pass trains batches as they arrive (or, when the schedule needs the run's
     * length, only counts them: {@link #survey}); once the stream has been quiet for
     * {@code trainer.stream-end-after}, what arrived is the run's data: its batch count makes the run's budget
     * (epochs x batches, fractions allowed), and later passes replay those batches from the topic, from the run's
     * first offsets to where the first pass ended. The last step takes what is accumulated.
     */
    private Long epochBudget() {
        return plan.epochs() == null || epochBatches == null ? null : plan.batchBudget(epochBatches);
    }

    /** The first pass closes: the stream went quiet with batches trained. */
    private void closeFirstPass(Output out) {
        Map<Integer, Long> end = new HashMap<>(resumeOffsets == null ? Map.of() : resumeOffsets);
        end.putAll(consumed);
        epochEnd = Map.copyOf(end);
        epochBatches = plan.lengthFromData() ? surveyed : microBatches;
        if (plan.lengthFromData()) {
            session.runLength(plan.stepsFor(epochBatches));
        }
        runs.length(runId, plan.stepsFor(epochBatches));
        LOG.log(Level.INFO, "run " + runId + ": the stream went quiet; its data is " + epochBatches + " batches (up to"
                + " offsets " + epochEnd + "), trained " + plan.epochs() + " times: " + epochBudget() + " batches");
        endOfData(out);
    }

    /** After a batch of a run with epochs: finish at the budget, or replay from the start at the end of the data. */
    private void endOfData(Output out) {
        if (microBatches >= epochBudget()) {
            TrainingSession.Step last = session.flushStep();
            if (last != null) {
                stepDone(last);
            }
            if (stepsSinceCheckpoint > 0) {
                checkpoint(out);
            }
            end(RunState.FINISHED, "trained " + plan.epochs() + " epochs (" + microBatches + " batches of "
                    + epochBatches + " per epoch)");
            return;
        }
        boolean passComplete = epochEnd.entrySet().stream()
                .allMatch(e -> consumedPosition(e.getKey()) >= e.getValue());
        if (passComplete) {
            Map<TopicPartition, Long> replay = new HashMap<>();
            epochEnd.keySet().forEach(partition -> replay.put(new TopicPartition(Topics.BATCHES, partition),
                    startOffsets == null ? 0L : startOffsets.getOrDefault(partition, 0L)));
            rewinding = true;
            rewind(replay);
            LOG.log(Level.INFO, "run " + runId + ": epoch " + epoch() + " begins, replaying batches from " + replay);
        }
    }

    private long consumedPosition(int partition) {
        Long now = consumed.get(partition);
        return now != null ? now : resumeOffsets == null ? 0L : resumeOffsets.getOrDefault(partition, 0L);
    }

    @Override
    protected void rewound() {
        rewinding = false;
        consumed.clear(); // positions are those of the replay from now on
        resumeOffsets = startOffsets == null ? Map.of() : Map.copyOf(startOffsets);
    }

    /** Passes over the data so far, as a fraction; null while the first pass is open. */
    private Double epoch() {
        return epochBatches == null || epochBatches == 0 ? null : (double) microBatches / epochBatches;
    }

    private void badBatch(ConsumerRecord<String, byte[]> record, RuntimeException e) {
        metrics.badBatch(plan.recipeId());
        runs.batchRejected(runId, record.partition(), record.offset(), String.valueOf(e.getMessage()));
        if (plan.failOnBadBatch()) {
            end(RunState.FAILED, "batch at " + record.topic() + "-" + record.partition() + "@" + record.offset()
                    + " cannot be trained (on_bad_batch: fail): " + e.getMessage());
        }
    }

    private void stepDone(TrainingSession.Step step) {
        lastLoss = step.loss();
        stepsSinceCheckpoint++;
        double tokensPerSecond = step.seconds() > 0 ? step.batchTokens() / step.seconds() : 0;
        runs.stepDone(runId, step, tokensSeen, tokensPerSecond, session.learningRate(), epoch());
        metrics.step(plan.recipeId(), step.loss(), step.learningRate(), step.gradNorm(), tokensPerSecond, step.seconds());
        if (session.tuning().jola() != null) {
            try (NDManager scope = NDManager.newBaseManager()) {
                metrics.activeHeads(plan.recipeId(), session.tuning().activeHeads(scope));
            }
        }
    }

    /** Writes a checkpoint of the step just taken and sends its event, which releases the batches it covers. */
    private void checkpoint(Output out) {
        long started = System.nanoTime();
        Map<Integer, Long> offsets = new HashMap<>(resumeOffsets == null ? Map.of() : resumeOffsets);
        offsets.putAll(consumed);
        Manifest manifest = new Manifest(Manifest.VERSION, plan.recipeId(), runId, session.step(), tokensSeen, lastLoss,
                plan.method().format(), offsets, startOffsets == null ? Map.of() : startOffsets, session.gateState(),
                lastBatchSequence, microBatches, epochEnd, epochBatches, batchesTopicId, null, Instant.now());
        Manifest written;
        try {
            written = checkpoints.write(manifest, folder -> {
                session.saveState(folder);
                session.tuning().writeArtefact(folder);
            });
        } catch (IOException e) {
            throw new StartOverException("run " + runId + ": cannot write checkpoint-" + session.step() + " under "
                    + checkpoints.runFolder() + ": " + e.getMessage(), e);
        }
        Path folder = CheckpointStore.folderName(checkpoints.runFolder(), written.step());
        runs.checkpointWritten(runId, written, folder.toUri().toString());
        out.send(new Outgoing(Topics.CHECKPOINTS, plan.recipeId(), event(written, folder)), List.copyOf(sinceCheckpoint));
        sinceCheckpoint.clear();
        resumeOffsets = Map.copyOf(offsets);
        consumed.clear();
        awaitingAcknowledgement.add(written.step());
        stepsSinceCheckpoint = 0;
        metrics.checkpoint(plan.recipeId(), (System.nanoTime() - started) / 1e9);
        LOG.log(Level.INFO, "run " + runId + ": checkpoint-" + written.step() + " written (" + written.checksum() + ")");
    }

    private CheckpointEvent event(Manifest manifest, Path folder) {
        return new CheckpointEvent(CheckpointEvent.SCHEMA_VERSION, plan.recipeId(), runId, manifest.step(),
                manifest.tokensSeen(), manifest.trainLoss(), folder.toUri().toString(), manifest.format(),
                manifest.checksum(), manifest.consumedOffsets(), manifest.createdAt());
    }

    /** The stream went quiet: checkpoint what was trained since the last one, and honour a stop. */
    @Override
    protected void idle(Output out) {
        if (session == null || done) {
            return;
        }
        if (plan.epochs() != null && epochEnd == null && (microBatches > 0 || surveyed > 0) && !rewinding && !stopRequested
                && System.nanoTime() - lastActivity >= streamEndAfter.toNanos()) {
            closeFirstPass(out);
            return;
        }
        if (session.midStep()) {
            return;
        }
        boolean quiet = System.nanoTime() - lastActivity >= checkpointWhenIdle.toNanos();
        if (stepsSinceCheckpoint > 0 && (quiet || stopRequested)) {
            checkpoint(out);
            if (!stopRequested) {
                // the stream went quiet: the memory this thread's steps kept for the next one goes back until it
                // comes (a stop ends the run below, which gives it back with the model)
                NativeAllocator.release();
            }
        }
        honourStop();
    }

    @Override
    protected void endOfPoll(Output out) {
        if (stopRequested && session != null && !done && !session.midStep()) {
            if (stepsSinceCheckpoint > 0) {
                checkpoint(out);
            }
            honourStop();
        }
    }

    private void honourStop() {
        if (stopRequested && !done) {
            String reason = stopReason != null ? stopReason + "; stopped at step " + session.step()
                    : "stopped on request at step " + session.step();
            end(stopState, reason);
            LOG.log(Level.INFO, "run " + runId + ": " + reason);
        }
    }

    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        for (Long step : awaitingAcknowledgement) {
            runs.checkpointPublished(runId, step);
        }
        if (!awaitingAcknowledgement.isEmpty() && plan.saveTotalLimit() != null) {
            Set<Long> best = runs.find(runId).map(run -> run.bestStep == null ? Set.<Long>of() : Set.of(run.bestStep))
                    .orElse(Set.of());
            try {
                runs.checkpointStatus(runId, checkpoints.prune(plan.saveTotalLimit(), best), CheckpointRow.DELETED);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "run " + runId + ": cannot prune old checkpoints: " + e.getMessage());
            }
        }
        awaitingAcknowledgement.clear();
        metrics.lag(plan.recipeId(), workerState().lag());
    }

    @Override
    protected DeadLetter deadLetterFor(ConsumerRecord<String, byte[]> record, RuntimeException failure) {
        InputOffset input = InputOffset.of(record);
        return DeadLetter.from(context().stage(), input.source()).recipe(plan.recipeId())
                .reason(input.source().describe() + " (batch of recipe " + plan.recipeId() + ") cannot be trained by run "
                        + runId + ": " + failure.getMessage()
                        + (plan.failOnBadBatch() ? "; the run failed (on_bad_batch: fail)" : "; the run goes on"))
                .payload(record.value()).build();
    }

    /** Asks the run to stop at the next optimiser-step boundary, after a checkpoint of what it trained. */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * The run's validation losses so far: records its best checkpoint (which save_total_limit keeps) and, when the
     * recipe's early stopping says so, finishes the run at its next step boundary. Called for every evaluation, and
     * at the start of a session with the evaluations that arrived while no worker trained the run.
     */
    public void judge(List<EarlyStopping.Score> scores) {
        if (scores.isEmpty()) {
            return;
        }
        EarlyStopping.Verdict verdict = EarlyStopping.judge(scores, plan.earlyStoppingPatience(),
                plan.earlyStoppingThreshold());
        runs.best(runId, verdict.bestStep(), verdict.bestLoss());
        if (verdict.stop() && !done) {
            LOG.log(Level.INFO, "run " + runId + ": " + verdict.reason());
            requestFinish(verdict.reason());
        }
    }

    /** Early stopping: the run ends, finished, at the next optimiser-step boundary, after a checkpoint. */
    public void requestFinish(String reason) {
        stopReason = reason;
        stopState = RunState.FINISHED;
        stopRequested = true;
    }

    /** Whether the worker trains nothing more in this session. */
    public boolean done() {
        return done;
    }

    /**
     * The run trains nothing more in this worker's life: its model, gradients and optimiser state are let go (a
     * resume loads them again from the checkpoint), then the state is recorded.
     */
    private void end(RunState state, String reason) {
        done = true;
        closeSession();
        runs.transition(runId, state, reason);
    }

    private void openSession(Precision type, Device device) throws IOException {
        session = TrainingSession.start(plan, type, NDManager.newBaseManager(device, "PyTorch"));
        metrics.modelLoaded(plan.recipeId(), true);
    }

    private void closeSession() {
        if (session != null) {
            session.close();
            session = null;
            metrics.modelLoaded(plan.recipeId(), false);
            NativeAllocator.release(); // what this run's steps kept for their next one
        }
    }

    /** The newest checkpoint's offsets refer to a batches topic that was deleted and created again. */
    private static final class TopicRecreatedException extends RuntimeException {
        TopicRecreatedException(String message) {
            super(message);
        }
    }
}
