package dev.streamtune.trainer.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.jola.GateSchedule;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.lm.train.Gradients;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.lm.train.TrainingCheckpoint;
import dev.streamtune.lm.train.TrainingRandomness;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One run's model, method and optimiser, trained one micro-batch (one {@code TrainBatch}) at a time.
 *
 * <p>An optimiser step spans {@code gradient_accumulation_steps} micro-batches. Each one's loss is the sum of its
 * trained tokens' cross-entropies, and their gradients accumulate; at the end of the step they are divided by the
 * trained tokens of all its micro-batches together, so the step minimises the token mean over the whole step
 * whatever the micro-batches' sizes (not the mean of per-batch means). With {@code loss_normalization: sequence}
 * each token's cross-entropy is weighted by 1 / its sequence's trained tokens and the step divides by its sequences
 * instead: the mean over the step's sequences of each one's mean. JoLA's sparsity penalty is then added once
 * per step with the gate schedule's weight. Gradients are clipped to {@code max_grad_norm}, AdamW steps with the
 * schedule's rate, and the randomness of each micro-batch (dropout, gate noise) is seeded from (seed, step,
 * micro-batch): a run resumed from a checkpoint at step k draws exactly what the uninterrupted run drew.
 *
 * <p>Sessions of one process take turns on the device, one micro-batch (or step update) at a time: DJL allows one
 * gradient collector per process, and PyTorch's random generator is the process's, so two runs computing at once
 * would fail, or draw each other's dropout masks.
 */
public final class TrainingSession implements AutoCloseable {

    /** What an optimiser step did. */
    public record Step(
            long step,
            double loss,
            double learningRate,
            double gradNorm,
            long trainedTokens,
            long batchTokens,
            double seconds) {}

    /** The device, taken in turn by every session of the process. */
    private static final ReentrantLock DEVICE = new ReentrantLock(true);

    private final TrainingPlan plan;
    private final Precision precision;
    private final NDManager manager;
    private final CausalLm model;
    private final FineTuning tuning;
    private final AdamW optimizer;
    private LearningRateSchedule schedule;
    private GateSchedule gates;
    private long step;
    private int microBatches;
    private double lossSum;
    private long trainedTokens;
    /** What the step's summed loss is divided by: its trained tokens, or its sequences (loss_normalization). */
    private long normaliser;

    private long batchTokens;
    private long stepStarted;

    private TrainingSession(
            TrainingPlan plan, Precision precision, NDManager manager, CausalLm model, FineTuning tuning) {
        this.plan = plan;
        this.precision = precision;
        this.manager = manager;
        this.model = model;
        this.tuning = tuning;
        TrainingPlan.Optimisation o = plan.optimisation();
        this.optimizer = new AdamW(
                tuning.parameters(),
                tuning.exemptFromDecay(),
                o.beta1(),
                o.beta2(),
                o.epsilon(),
                o.weightDecay(),
                manager);
        this.schedule = o.scheduleOver(plan.maxSteps());
        this.gates = plan.jola() == null
                ? null
                : new GateSchedule(
                        plan.jola().schedule(),
                        plan.maxSteps() == null ? 1 : plan.maxSteps(),
                        plan.jola().gateLambda());
    }

    /**
     * Loads the plan's base model on {@code manager}'s device in the precision's compute dtype (norms, softmax and
     * the loss in its wide one) and installs the method, fresh.
     */
    public static TrainingSession start(TrainingPlan plan, Precision precision, NDManager manager) throws IOException {
        DEVICE.lock(); // fresh adapters are drawn from the process's generator
        try {
            CausalLm model = plan.model().load(plan.seed(), precision, plan.quantization(), manager);
            return new TrainingSession(plan, precision, manager, model, FineTuning.install(plan, model, manager));
        } finally {
            DEVICE.unlock();
        }
    }

    public Precision precision() {
        return precision;
    }

    /**
     * Fixes the run's length once its data is known ({@link TrainingPlan#lengthFromData}): the learning-rate schedule
     * (warmup_ratio included) and JoLA's gate schedule span {@code totalSteps}. Before the first step, or on a resume
     * before the saved state is restored.
     */
    public void runLength(long totalSteps) {
        if (step > 0 || midStep()) {
            throw new IllegalStateException("the run's length is fixed before its first step, not at step " + step);
        }
        schedule = plan.optimisation().scheduleOver(totalSteps);
        if (gates != null) {
            gates = new GateSchedule(
                    plan.jola().schedule(), totalSteps, plan.jola().gateLambda());
        }
    }

    /** Optimiser steps completed: the index of the next one. */
    public long step() {
        return step;
    }

    /** Whether micro-batches of an unfinished optimiser step are accumulated. */
    public boolean midStep() {
        return microBatches > 0;
    }

    public FineTuning tuning() {
        return tuning;
    }

    public CausalLm model() {
        return model;
    }

    /** The rate the next optimiser step will use. */
    public double learningRate() {
        return schedule.at(step);
    }

    /**
     * Trains one micro-batch (forward, loss, backward); when it completes an optimiser step, takes the step and
     * returns what it did, else null.
     */
    public Step train(BatchTensors batch) {
        if (microBatches == 0) {
            stepStarted = System.nanoTime();
        }
        DEVICE.lock();
        try {
            // the process's CPU threads follow the session on the device: one for a small model, where a second
            // thread costs more in fork and join than it saves (Compute.threadsFor), every core otherwise
            Compute.useThreadsFor(model.largestProductFlops((long) batch.tokens().length * batch.tokens()[0].length));
            TrainingRandomness.beginMicroBatch(plan.seed(), step, microBatches);
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray tokens = scope.create(batch.tokens());
                NDArray labels = scope.create(batch.labels());
                CausalLmLoss.SequenceWeights perSequence = plan.normalisesPerSequence()
                        ? CausalLmLoss.SequenceWeights.of(batch.labels(), batch.packing())
                        : null;
                NDArray weights = perSequence == null ? null : scope.create(perSequence.weights());
                Function<NDArray, CausalLmLoss.Sum> loss = logits -> weights == null
                        ? CausalLmLoss.sum(logits, labels, precision)
                        : CausalLmLoss.sum(logits, labels, precision, weights);
                CausalLmLoss.Sum sum;
                if (plan.gradientCheckpointing() && model.supportsCheckpointing()) {
                    CausalLmLoss.Sum[] objective = new CausalLmLoss.Sum[1];
                    model.checkpointedBackward(
                            tokens,
                            batch.packing(),
                            true,
                            logits -> (objective[0] = loss.apply(logits)).loss(),
                            collector);
                    sum = objective[0];
                } else {
                    sum = loss.apply(model.forward(tokens, batch.packing(), true));
                    collector.backward(sum.loss());
                }
                lossSum += sum.loss().toType(DataType.FLOAT64, false).getDouble();
                trainedTokens += sum.tokens();
                normaliser += perSequence == null ? sum.tokens() : perSequence.sequences();
            }
            batchTokens += batch.trainableTokens();
            microBatches++;
            return microBatches < plan.gradientAccumulation() ? null : finishStep();
        } finally {
            DEVICE.unlock();
        }
    }

    /**
     * Takes the optimiser step with the micro-batches accumulated so far, fewer than gradient_accumulation_steps
     * (the end of a run's data, as Hugging Face's Trainer steps at the end of its last epoch); null when none are.
     */
    public Step flushStep() {
        if (microBatches == 0) {
            return null;
        }
        DEVICE.lock();
        try {
            return finishStep();
        } finally {
            DEVICE.unlock();
        }
    }

    /**
     * Forgets the micro-batches of an unfinished optimiser step (a run stopped between steps): their gradients are
     * cleared and the step is not taken, so the session is exactly as after its last step and a resume that trains
     * those batches again computes what the uninterrupted run computed. Nothing when no step is half accumulated.
     */
    public void discardPartialStep() {
        if (microBatches == 0) {
            return;
        }
        DEVICE.lock();
        try {
            Gradients.zero(tuning.parameters());
        } finally {
            DEVICE.unlock();
        }
        microBatches = 0;
        lossSum = 0;
        trainedTokens = 0;
        normaliser = 0;
        batchTokens = 0;
    }

    private Step finishStep() {
        double loss = normaliser == 0 ? 0 : lossSum / normaliser;
        if (normaliser > 0) {
            Gradients.scale(tuning.parameters(), 1.0 / normaliser);
        }
        double objective = loss;
        if (gates != null) {
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                // The weight is a tensor owned by torch, never a Java scalar (DJL_NOTES pitfall 1).
                NDArray lambda = scope.full(new Shape(), (float) gates.lambda(), precision.compute());
                NDArray penalty = tuning.jola().penalty(lambda, plan.jola().penalty(), scope);
                collector.backward(penalty);
                objective += penalty.toType(DataType.FLOAT64, false).getDouble();
            }
        }
        double gradNorm = Gradients.clipGlobalNorm(
                tuning.parameters(), plan.optimisation().maxGradNorm());
        double rate = schedule.at(step);
        optimizer.step(rate, 1.0);
        if (gates != null) {
            gates.advance(objective);
        }
        Step done = new Step(
                step + 1, loss, rate, gradNorm, trainedTokens, batchTokens, (System.nanoTime() - stepStarted) / 1e9);
        step++;
        microBatches = 0;
        lossSum = 0;
        trainedTokens = 0;
        normaliser = 0;
        batchTokens = 0;
        return done;
    }

    /** Writes the resume state (trainable tensors, optimiser moments, step, seed) into {@code folder}. */
    public void saveState(Path folder) throws IOException {
        if (midStep()) {
            throw new IllegalStateException("a checkpoint is taken between optimiser steps, not inside one");
        }
        DEVICE.lock();
        try {
            TrainingCheckpoint.save(
                    folder, new TrainingCheckpoint.State(step, plan.seed()), tuning.parameters(), optimizer);
        } finally {
            DEVICE.unlock();
        }
    }

    /** Continues from a checkpoint's resume state; returns the step it continues at. */
    public long restoreState(Path folder, GateSchedule.State gateState) throws IOException {
        TrainingCheckpoint.State state;
        DEVICE.lock();
        try {
            state = TrainingCheckpoint.restore(folder, tuning.parameters(), optimizer, manager);
        } finally {
            DEVICE.unlock();
        }
        if (state.seed() != plan.seed()) {
            throw new IOException(
                    folder + " was written by a run with seed " + state.seed() + ", this run's is " + plan.seed());
        }
        step = state.globalStep();
        microBatches = 0;
        lossSum = 0;
        trainedTokens = 0;
        normaliser = 0;
        batchTokens = 0;
        if (gates != null && gateState != null) {
            gates.restore(gateState);
        }
        return step;
    }

    /** The gate schedule's state, or null without JoLA. */
    public GateSchedule.State gateState() {
        return gates == null ? null : gates.state();
    }

    @Override
    public void close() {
        manager.close();
    }
}
