package dev.streamtune.trainer.worker;

import ai.djl.ndarray.NDManager;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.lm.runtime.NativeAllocator;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.streams.LogContext;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.RecipeStreamWorker;
import dev.streamtune.streams.StageContext;
import dev.streamtune.streams.StageCounts;
import dev.streamtune.streams.StartOverException;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.run.EarlyStopping;
import dev.streamtune.trainer.run.RunLedger;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.training.BatchTensors;
import dev.streamtune.trainer.training.MalformedBatchException;
import dev.streamtune.trainer.training.TrainingSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * A recipe version's training run on the stage framework: reads {@code batches} in the group
 * {@code trainer-service.<recipe id>} and trains each of the recipe's batches as a micro-batch. The stage
 * framework's hooks map onto a run's life as a recipe reads (setup, train, save, end):
 *
 * <ul>
 *   <li>{@link #starting}: load the model, restore the newest checkpoint, record where the run stands;</li>
 *   <li>{@link #positionsOnAssignment}: read from where the checkpoint (or the next pass) says;</li>
 *   <li>{@link #accept}: train a batch; a checkpoint as the recipe's save and eval strategies say
 *       ({@link CheckpointCycle}), a pass replayed at the end of the data ({@link EpochReplay}), the end at max_steps
 *       or the epochs' budget;</li>
 *   <li>{@link #idle}: the stream went quiet: close the first pass, checkpoint, honour a stop ({@link RunControl});</li>
 *   <li>{@link #published}: checkpoints acknowledged, old ones rotated away;</li>
 *   <li>{@link #stopped}: the model is let go; a run whose recipe version was replaced or deleted ends STOPPED.</li>
 * </ul>
 *
 * <p>Progress lives in the checkpoints, not in the group's commits: a crash, a stop or a new pod neither skips nor
 * repeats a batch, and the time to resume does not depend on how far the run is. A failure of the run store or of
 * a training step is a failure of the run's state, never of the batch: the worker starts over from its newest
 * checkpoint and the batch is read again.
 */
public final class TrainWorker extends RecipeStreamWorker {

    private static final Logger LOG = Logger.getLogger(TrainWorker.class);
    public static final String TRAINED = "trained";
    public static final String IGNORED = "ignored";

    /**
     * Settings of every run of a trainer.
     *
     * @param checkpointRoot     where checkpoints are written
     * @param checkpointWhenIdle a stream quiet this long has the run checkpoint what it trained since its last one
     * @param streamEndAfter     a stream quiet this long has delivered a run's data (its first pass closes)
     * @param evaluationWait     how long save_total_limit keeps a checkpoint not yet evaluated (0: no evaluator)
     * @param clock              the time runs go by
     */
    public record Settings(
            Path checkpointRoot,
            Duration checkpointWhenIdle,
            Duration streamEndAfter,
            Duration evaluationWait,
            RunClock clock) {}

    private final TrainingPlan plan;
    private final String runId;
    private final String recipeHash;
    private final RunLedger ledger;
    private final TrainerMetrics metrics;
    private final Settings settings;
    private final Supplier<String> batchesTopicIds;
    private final TrainBatchDeserializer batches = new TrainBatchDeserializer();
    private final RunControl control = new RunControl();
    private final EpochReplay replay;
    private final CheckpointCycle cycle;

    private final RunModel model;
    private double lastLoss = Double.NaN;
    private long lastBatchAt;
    /** Kafka's id of the batches topic when this worker started: its checkpoints' offsets refer to that log. */
    private String batchesTopicId;

    public TrainWorker(
            StageContext context,
            TrainingPlan plan,
            String runId,
            String recipeHash,
            RunLedger ledger,
            TrainerMetrics metrics,
            Settings settings,
            Supplier<String> batchesTopicIds) {
        super(context, plan.recipeId(), Topics.BATCHES);
        this.plan = plan;
        this.runId = runId;
        logUnder(LogContext.RUN, runId);
        this.recipeHash = recipeHash;
        this.ledger = ledger;
        this.metrics = metrics;
        this.settings = settings;
        this.batchesTopicIds = batchesTopicIds;
        this.replay = new EpochReplay(plan);
        this.model = new RunModel(plan, metrics);
        this.cycle = new CheckpointCycle(
                plan,
                runId,
                new CheckpointStore(settings.checkpointRoot(), plan.recipeId(), runId),
                ledger,
                metrics,
                settings.evaluationWait(),
                settings.clock());
    }

    public TrainingPlan plan() {
        return plan;
    }

    public String runId() {
        return runId;
    }

    public String device() {
        return model.deviceName() + " " + model.dtypeName();
    }

    /** Whether the worker holds its run's model, gradients and optimiser state. */
    public boolean holdsModel() {
        return model.held();
    }

    // --- setup ----------------------------------------------------------------------------------------------------

    /** Loads the model, restores the newest complete checkpoint (if any) and records where the run stands. */
    @Override
    protected void starting() {
        model.close();
        cycle.reset();
        replay.begin();
        control.ended(false);
        lastBatchAt = settings.clock().nanoTime(); // a stream is quiet from now, not from before the start
        TrainingRun run = ledger.open(
                runId,
                plan.recipeId(),
                recipeHash,
                plan.method().name().toLowerCase(),
                plan.describeModel(),
                plan.maxSteps());
        ledger.retireOthers(
                plan.recipeId(),
                runId,
                "recipe " + plan.recipeId() + " was replaced by a new version:" + " run " + runId + " takes over");
        if (run.state == RunState.STOPPED && run.retired) {
            ledger.reactivate(runId, "recipe " + plan.recipeId() + " is at this version again");
        } else if (!run.state.trains()) {
            control.ended(true);
            LOG.infof("run %s is %s: not training", runId, run.state);
            return;
        }
        batchesTopicId = batchesTopicIds.get(); // before anything is loaded: without the broker, start over later
        ledger.transition(runId, RunState.STARTING, "loading the model and the newest checkpoint");
        String from;
        try {
            model.load();
            from = restore();
        } catch (CheckpointCycle.TopicRecreatedException e) {
            end(RunState.FAILED, e.getMessage());
            LOG.warn(e.getMessage());
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("run " + runId + " cannot load its model: " + e.getMessage(), e);
        }
        TrainingSession session = model.session();
        ledger.started(runId, model.deviceName(), model.dtypeName(), session.step(), replay.tokensSeen());
        if ((plan.maxSteps() != null && session.step() >= plan.maxSteps() && !plan.continuous())
                || replay.budgetSpent()) {
            // a crash after the last checkpoint but before the run was recorded as finished
            end(RunState.FINISHED, "reached the end of the run (" + from + ")");
            return;
        }
        // evaluations that landed while no worker trained the run (before a restart, while it was stopped)
        judge(ledger.validationScores(runId));
        if (control.stopPending()) {
            end(control.stopState(), control.stopReason(session.step())); // decided meanwhile: nothing to train
            return;
        }
        ledger.transition(runId, RunState.RUNNING, from);
        LOG.infof(
                "run %s on %s: %s; %s, %s trainable parameters, %s",
                runId, device(), from, plan.method(), session.tuning().trainableParameterCount(), plan.describeModel());
    }

    /** Restores the newest usable checkpoint into the model and the replay; says where the run starts. */
    private String restore() throws IOException {
        CheckpointStore.Found found = model.restoreNewest(cycle, batchesTopicId);
        if (found == null) {
            return "started from the base model, reading batches from the beginning";
        }
        Manifest manifest = found.manifest();
        replay.restore(manifest);
        lastLoss = manifest.trainLoss();
        cycle.announceIfUnacknowledged(manifest, found.folder(), context().publisher());
        Map<Integer, Long> readFrom = new HashMap<>();
        manifest.consumedOffsets().keySet().forEach(partition -> readFrom.put(partition, replay.position(partition)));
        return "resumed at step " + manifest.step() + " from " + found.folder().getFileName() + ", reading batches"
                + " from offsets " + readFrom
                + (readFrom.equals(manifest.consumedOffsets())
                        ? ""
                        : " (the checkpoint ended a pass; the next one begins)");
    }

    @Override
    protected Map<TopicPartition, Long> positionsOnAssignment(Collection<TopicPartition> assigned) {
        Map<TopicPartition, Long> positions = new HashMap<>();
        for (TopicPartition partition : assigned) {
            // A run that trains nothing in this worker's life reads nothing; a resume is a new worker.
            positions.put(partition, control.ended() ? END : replay.position(partition.partition()));
        }
        return positions;
    }

    // --- train ----------------------------------------------------------------------------------------------------

    @Override
    protected void accept(ConsumerRecord<String, byte[]> record, Output out) {
        if (!plan.recipeId().equals(record.key())) {
            counts().count(IGNORED, null); // another recipe's batch on the same partition
            return;
        }
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (control.ended() || !model.held()) {
            // Nothing more is trained in this worker's life: the group stays where training stopped (one pin per
            // partition, not a hold for every batch that keeps arriving for an ended run).
            watermark().pin(partition, record.offset());
            counts().count(IGNORED, null);
            return;
        }
        watermark().hold(partition, record.offset());
        cycle.read(InputOffset.of(record));
        EpochReplay.Verdict verdict = replay.admit(record);
        if (verdict == EpochReplay.Verdict.SKIP) {
            counts().count(IGNORED, null);
            return;
        }
        lastBatchAt = settings.clock().nanoTime();
        if (replay.startsAt(record)) {
            ledger.startOffsets(runId, replay.startOffsets());
        }
        if (verdict == EpochReplay.Verdict.SURVEY) {
            replay.surveyed(record, trainable(record));
            counts().count(IGNORED, null); // read again, and trained, once the first pass closes
            return;
        }
        train(record, out);
    }

    private void train(ConsumerRecord<String, byte[]> record, Output out) {
        TrainingSession session = model.session();
        TrainBatch batch;
        BatchTensors tensors;
        try {
            batch = batches.deserialize(record.topic(), record.value());
            tensors = tensors(batch);
        } catch (RuntimeException e) {
            replay.rejected(record);
            badBatch(record, e);
            throw e instanceof MalformedBatchException ? e : new MalformedBatchException(e.getMessage(), e);
        }
        TrainingSession.Step step;
        try {
            step = session.train(tensors);
        } catch (RuntimeException e) {
            // Gradients may be half accumulated: the run's state is in doubt, not the batch.
            throw new StartOverException("run " + runId + ": a training step failed: " + e.getMessage(), e);
        }
        replay.trained(record, batch);
        counts().count(TRAINED, null);
        if (step != null) {
            stepTaken(step);
            boolean finished = plan.maxSteps() != null && step.step() >= plan.maxSteps() && !plan.continuous();
            if (cycle.due(step.step()) || finished) {
                checkpoint(out);
            }
            if (finished) {
                end(RunState.FINISHED, "reached max_steps " + plan.maxSteps());
                return;
            }
        }
        if (replay.dataKnown()) {
            endOfData(out);
        }
    }

    /**
     * Whether a batch of a first pass that only counts can be trained: a batch that cannot is not counted; the
     * training pass dead-letters it, once.
     */
    private boolean trainable(ConsumerRecord<String, byte[]> record) {
        try {
            tensors(batches.deserialize(record.topic(), record.value()));
            return true;
        } catch (RuntimeException e) {
            LOG.debugf("run %s: batch at offset %s is not counted: %s", runId, record.offset(), e.getMessage());
            return false;
        }
    }

    /** The batch as the model takes it; throws when it does not fit the model (ids outside its vocabulary...). */
    private BatchTensors tensors(TrainBatch batch) {
        return BatchTensors.of(
                batch,
                model.session().model().vocabSize(),
                model.session().model().maxPositions());
    }

    private void badBatch(ConsumerRecord<String, byte[]> record, RuntimeException e) {
        metrics.badBatch(plan.recipeId());
        ledger.batchRejected(runId, record.partition(), record.offset(), String.valueOf(e.getMessage()));
        if (plan.failOnBadBatch()) {
            end(
                    RunState.FAILED,
                    "batch at " + record.topic() + "-" + record.partition() + "@" + record.offset()
                            + " cannot be trained (on_bad_batch: fail): " + e.getMessage());
        }
    }

    private void stepTaken(TrainingSession.Step step) {
        TrainingSession session = model.session();
        lastLoss = step.loss();
        replay.stepTaken();
        cycle.stepTaken();
        double tokensPerSecond = step.seconds() > 0 ? step.batchTokens() / step.seconds() : 0;
        ledger.stepDone(runId, step, replay.tokensSeen(), tokensPerSecond, session.learningRate(), replay.epoch());
        metrics.step(
                plan.recipeId(), step.loss(), step.learningRate(), step.gradNorm(), tokensPerSecond, step.seconds());
        if (session.tuning().jola() != null) {
            try (NDManager scope = NDManager.newBaseManager()) {
                metrics.activeHeads(plan.recipeId(), session.tuning().activeHeads(scope));
            }
        }
    }

    /** After a batch of a run whose data is known: finish at the budget, or replay from the start at the end of it. */
    private void endOfData(Output out) {
        if (replay.budgetSpent()) {
            TrainingSession.Step last = model.session().flushStep();
            if (last != null) {
                stepTaken(last);
            }
            if (cycle.unsaved()) {
                checkpoint(out);
            }
            end(
                    RunState.FINISHED,
                    "trained " + plan.epochs() + " epochs (" + replay.microBatches() + " batches of "
                            + replay.epochBatches() + " per epoch)");
            return;
        }
        if (replay.passComplete()) {
            if (cycle.passEnded(model.session().midStep())) {
                checkpoint(out); // eval_strategy or save_strategy epoch
            }
            Map<TopicPartition, Long> from = replay.beginReplay();
            rewind(from);
            LOG.infof("run %s: epoch %s begins, replaying batches from %s", runId, replay.epoch(), from);
        }
    }

    @Override
    protected void rewound() {
        replay.rewound();
    }

    // --- save -----------------------------------------------------------------------------------------------------

    /**
     * Writes a checkpoint of the run as its last step left it, and announces it; first the rows of the steps it
     * covers must be written (a run resumed from it never trains those steps again).
     */
    private void checkpoint(Output out) {
        ledger.stepsRecorded(runId);
        TrainingSession session = model.session();
        EpochReplay.Progress progress = replay.atStep();
        Manifest manifest = new Manifest(
                Manifest.VERSION,
                plan.recipeId(),
                runId,
                session.step(),
                progress.tokensSeen(),
                lastLoss,
                plan.method().format(),
                progress.positions(),
                replay.startOffsets(),
                session.gateState(),
                progress.lastBatchSequence(),
                progress.microBatches(),
                replay.epochEnd(),
                replay.epochBatches(),
                batchesTopicId,
                null,
                settings.clock().now());
        cycle.write(session, manifest, out);
    }

    /** The stream went quiet: close a first pass, honour a stop, or checkpoint what was trained since the last one. */
    @Override
    protected void idle(Output out) {
        if (!model.held() || control.ended()) {
            return;
        }
        ledger.reportLostSteps(runId); // a step whose row was lost is trained again now, not when data comes
        if (replay.firstPassWaiting() && !control.stopPending() && quietFor(settings.streamEndAfter())) {
            closeFirstPass(out);
            return;
        }
        if (control.stopPending()) {
            honourStop(out);
            return;
        }
        if (!model.session().midStep() && cycle.unsaved() && quietFor(settings.checkpointWhenIdle())) {
            checkpoint(out);
            // the memory this thread's steps kept for the next one goes back until the stream comes back
            NativeAllocator.release();
        }
    }

    private boolean quietFor(Duration duration) {
        return settings.clock().nanoTime() - lastBatchAt >= duration.toNanos();
    }

    /** The stream went quiet with batches read: they are the run's data; the next pass (or the end) follows. */
    private void closeFirstPass(Output out) {
        replay.closeFirstPass();
        long steps = plan.stepsFor(replay.epochBatches());
        if (plan.lengthFromData()) {
            model.session().runLength(steps);
        }
        ledger.length(runId, steps);
        LOG.infof(
                "run %s: the stream went quiet; its data is %s batches (up to offsets %s), trained %s times: %s"
                        + " batches",
                runId, replay.epochBatches(), replay.epochEnd(), plan.epochs(), replay.budget());
        endOfData(out);
    }

    @Override
    protected void endOfPoll(Output out) {
        if (control.stopPending() && model.held()) {
            honourStop(out);
        }
    }

    /**
     * Ends the run as asked (a user's stop, early stopping) between optimiser steps: the micro-batches of an
     * unfinished step are forgotten (whoever resumes reads them again, so the resumed run trains exactly what the
     * uninterrupted one would), what the completed steps trained is checkpointed, and the run ends.
     */
    private void honourStop(Output out) {
        model.session().discardPartialStep();
        if (cycle.unsaved()) {
            checkpoint(out);
        }
        String reason = control.stopReason(model.session().step());
        end(control.stopState(), reason);
        LOG.infof("run %s: %s", runId, reason);
    }

    @Override
    protected void published(Output out, Map<StageCounts.Key, Long> counted) {
        cycle.acknowledged();
        metrics.lag(plan.recipeId(), workerState().lag());
    }

    @Override
    protected DeadLetter deadLetterFor(ConsumerRecord<String, byte[]> record, RuntimeException failure) {
        InputOffset input = InputOffset.of(record);
        return DeadLetter.from(context().stage(), input.source())
                .recipe(plan.recipeId())
                .field(blamedField(failure))
                .reason(input.source().describe() + " (batch of recipe " + plan.recipeId()
                        + ") cannot be trained by run "
                        + runId + ": " + failure.getMessage()
                        + (plan.failOnBadBatch() ? "; the run failed (on_bad_batch: fail)" : "; the run goes on"))
                .payload(record.value())
                .build();
    }

    // --- requests from other threads ----------------------------------------------------------------------------

    /** Asks the run to stop between optimiser steps, after a checkpoint of what its completed steps trained. */
    public void requestStop() {
        control.requestStop();
    }

    /**
     * The run's validation losses so far: records its best checkpoint (which save_total_limit keeps) and, when the
     * recipe's early stopping says so, finishes the run between optimiser steps. Called for every evaluation, and
     * at the start of a session with the evaluations that arrived while no worker trained the run.
     */
    public void judge(List<EarlyStopping.Score> scores) {
        cycle.evaluationArrived();
        if (scores.isEmpty()) {
            return;
        }
        EarlyStopping.Verdict verdict =
                EarlyStopping.judge(scores, plan.earlyStoppingPatience(), plan.earlyStoppingThreshold());
        ledger.best(runId, verdict.bestStep(), verdict.bestLoss());
        if (verdict.stop() && !control.ended()) {
            LOG.infof("run %s: %s", runId, verdict.reason());
            control.requestFinish(verdict.reason());
        }
    }

    /** An evaluation of the run arrived that says nothing of its progress (one that carries an error). */
    public void evaluationArrived() {
        cycle.evaluationArrived();
    }

    /** Whether the worker trains nothing more in this life. */
    public boolean done() {
        return control.ended();
    }

    // --- end ------------------------------------------------------------------------------------------------------

    /**
     * The run trains nothing more in this worker's life: its model, gradients and optimiser state are let go (a
     * resume loads them again from the checkpoint), then the state is recorded.
     */
    private void end(RunState state, String reason) {
        control.ended(true);
        model.close();
        ledger.transition(runId, state, reason);
    }

    /**
     * The worker stopped for good. The model is let go in every case. When the recipe no longer wants this version
     * (replaced, deleted), a run still training first checkpoints what its completed steps trained, then ends
     * STOPPED saying why; it trains again by itself if its version comes back. A plain stop (shutdown, a restart)
     * leaves the run's state as it is: the next worker goes on with it.
     */
    @Override
    protected void stopped(String retirement) {
        try {
            if (retirement != null) {
                String reason = retirement;
                TrainingSession session = model.session();
                if (session != null && !control.ended()) {
                    session.discardPartialStep();
                    if (cycle.unsaved()) {
                        Output out = new Output();
                        checkpoint(out);
                        context().publisher().publish(out.records());
                        cycle.acknowledged();
                    }
                    reason += "; stopped at step " + session.step();
                }
                ledger.retire(runId, reason); // a run that had ended keeps its state
                LOG.infof("run %s ends: %s", runId, retirement);
            }
        } catch (RuntimeException e) {
            LOG.warnf(
                    e,
                    "run %s: could not checkpoint and record its end (%s); it resumes from its newest checkpoint"
                            + " if its version comes back",
                    runId,
                    retirement);
        } finally {
            control.ended(true);
            model.close();
        }
    }
}
