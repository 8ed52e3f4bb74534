package dev.streamtune.trainer.worker;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.NativeAllocator;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.checkpoint.Manifest;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.training.TrainingSession;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A run's model, method and optimiser in memory (its {@link TrainingSession}): loaded on the device chosen at run
 * time, in that device's precision, restored from the newest usable checkpoint, and let go when the run ends or its
 * worker stops, together with the memory its steps kept. Used by the training thread; whether it is held is read
 * from others (the models-held gauge, tests).
 */
final class RunModel {

    private final TrainingPlan plan;
    private final TrainerMetrics metrics;
    private volatile TrainingSession session;
    private volatile Device device;
    private volatile Precision precision;

    RunModel(TrainingPlan plan, TrainerMetrics metrics) {
        this.plan = plan;
        this.metrics = metrics;
    }

    /** Loads the base model on the device PyTorch offers (CUDA when it sees a GPU) and installs the method, fresh. */
    void load() throws IOException {
        close();
        device = Compute.device();
        metrics.gpu(device);
        precision = plan.precisionOn(device);
        open();
    }

    /**
     * Restores the newest checkpoint that verifies and restores (a half-applied restore is undone by loading the
     * model again before the next one is tried); null when there is none and the fresh model stays.
     */
    CheckpointStore.Found restoreNewest(CheckpointCycle cycle, String batchesTopicId) throws IOException {
        return cycle.restoreNewest(
                batchesTopicId,
                checkpoint -> {
                    Manifest manifest = checkpoint.manifest();
                    if (plan.lengthFromData() && manifest.epochBatches() != null) {
                        session.runLength(plan.stepsFor(manifest.epochBatches()));
                    }
                    session.restoreState(checkpoint.folder(), manifest.gateSchedule());
                },
                () -> {
                    close();
                    try {
                        open();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    private void open() throws IOException {
        session = TrainingSession.start(plan, precision, NDManager.newBaseManager(device, "PyTorch"));
        metrics.modelLoaded(plan.recipeId(), true);
    }

    /** The session; null when the model is not held. */
    TrainingSession session() {
        return session;
    }

    boolean held() {
        return session != null;
    }

    /** The device and compute dtype, as the run's row shows them ("cpu()", "float32"); "?" before a load. */
    String deviceName() {
        return device == null ? "?" : device.toString();
    }

    String dtypeName() {
        return precision == null ? "?" : precision.compute().toString().toLowerCase();
    }

    /** Lets the model, gradients and optimiser state go, and the memory the run's steps kept for their next one. */
    void close() {
        TrainingSession open = session;
        if (open != null) {
            session = null;
            open.close();
            metrics.modelLoaded(plan.recipeId(), false);
            NativeAllocator.release();
        }
    }
}
