package dev.streamtune.trainer.service;

import dev.streamtune.trainer.run.RunEvaluation;
import dev.streamtune.trainer.run.RunStore;
import dev.streamtune.trainer.run.RunTransition;
import dev.streamtune.trainer.run.SavedCheckpointRow;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.run.TrainingStepRow;
import dev.streamtune.trainer.worker.TrainWorker;
import dev.streamtune.trainer.worker.TrainerStage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.NotFoundException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Training runs as users follow and steer them: their state and figures (with an ETA and the consumer's lag when
 * this instance trains them), loss curves, transitions, checkpoints and evaluations; stop and resume.
 */
@ApplicationScoped
public class RunService {

    /** A run as users follow it. */
    public record RunView(
            String id,
            String recipeId,
            String method,
            String model,
            String state,
            String device,
            String dtype,
            long step,
            Double epoch,
            Long maxSteps,
            long tokensSeen,
            Double learningRate,
            Double lastLoss,
            List<Double> lastLosses,
            Double gradNorm,
            Double tokensPerSecond,
            Double etaSeconds,
            Long lag,
            Long bestStep,
            Double bestValidLoss,
            Long finalStep,
            String failure,
            Instant createdAt,
            Instant updatedAt) {}

    public record CheckpointView(
            long step,
            String location,
            String format,
            String checksum,
            long tokensSeen,
            double trainLoss,
            Map<Integer, Long> consumedOffsets,
            String status,
            boolean published,
            Instant createdAt) {}

    private final RunStore runs;
    private final TrainerStage stage;

    public RunService(RunStore runs, TrainerStage stage) {
        this.runs = runs;
        this.stage = stage;
    }

    public List<RunView> list() {
        return runs.all().stream().map(this::view).toList();
    }

    public RunView get(String id) {
        return view(run(id));
    }

    /** A page of the run's step rows (see {@link RunStore#steps}). */
    public List<TrainingStepRow> steps(String id, long from, int limit, int stride) {
        run(id);
        return runs.steps(id, from, limit, stride);
    }

    public List<RunTransition> transitions(String id) {
        run(id);
        return runs.transitions(id);
    }

    /** The evaluations eval-service published for the run's checkpoints, by step and split. */
    public List<RunEvaluation> evaluations(String id) {
        run(id);
        return runs.evaluations(id);
    }

    public List<CheckpointView> checkpoints(String id) {
        run(id);
        return runs.checkpoints(id).stream().map(RunService::view).toList();
    }

    /** Asks the run to stop between optimiser steps, after a checkpoint of what its completed steps trained. */
    public void stop(String id) {
        run(id);
        if (!stage.stop(id)) {
            throw new RunConflictException("run " + id + " is not being trained by this instance (its recipe is not"
                    + " active, or it was replaced by a newer version)");
        }
    }

    /** Resumes a stopped, failed or finished run from its newest checkpoint. */
    public void resume(String id) {
        TrainingRun run = run(id);
        if (run.state.trains()) {
            throw new RunConflictException("run " + id + " is " + run.state + ", not stopped");
        }
        if (!stage.resume(id)) {
            throw new RunConflictException("run " + id + " cannot be resumed here: its recipe is not active at this"
                    + " version"
                    + (run.retired
                            ? " (it was replaced or deleted; post this version again to" + " train it on)"
                            : ""));
        }
    }

    /** The run's row; a 404 when there is none. */
    public TrainingRun run(String id) {
        return runs.find(id).orElseThrow(() -> new NotFoundException("no run " + id));
    }

    /**
     * The checkpoint an export takes ({@link FinalCheckpoint}): {@code requested} ({@code ?step=}: a kept step, or
     * best), else the run's artefact, its best checkpoint when the recipe has load_best_model_at_end, else its newest.
     * Whether the recipe has it is known from its plan, while the recipe is active on this instance; otherwise the
     * newest is taken, and the answer says so.
     */
    public FinalCheckpoint.Chosen checkpointFor(String id, String requested) {
        TrainingRun run = run(id);
        List<SavedCheckpointRow> checkpoints = runs.checkpoints(id);
        Boolean loadBest = loadBestModelAtEnd(id);
        FinalCheckpoint.Chosen chosen =
                FinalCheckpoint.choose(id, checkpoints, run.bestStep, Boolean.TRUE.equals(loadBest), requested);
        if (loadBest == null && (requested == null || requested.isBlank())) {
            return new FinalCheckpoint.Chosen(
                    chosen.checkpoint(),
                    chosen.why() + " (the run's recipe is not active on this instance, so whether it has"
                            + " load_best_model_at_end is not known; ?step=best exports the best)");
        }
        return chosen;
    }

    /** The recipe's load_best_model_at_end, or null when its plan is not known on this instance. */
    private Boolean loadBestModelAtEnd(String id) {
        TrainWorker worker = stage.workerOf(id);
        return worker == null ? null : worker.plan().loadBestModelAtEnd();
    }

    private RunView view(TrainingRun run) {
        List<TrainingStepRow> last = runs.lastSteps(run.id, 10);
        List<Double> losses = new ArrayList<>();
        for (int i = last.size() - 1; i >= 0; i--) {
            losses.add(last.get(i).loss);
        }
        Double eta = null;
        if (run.maxSteps != null && !last.isEmpty() && run.state.trains()) {
            double perStep = last.stream().mapToDouble(s -> s.seconds).average().orElse(0);
            eta = Math.max(0, run.maxSteps - run.step) * perStep;
        }
        TrainWorker worker = stage.workerOf(run.id);
        String device = run.device;
        if (worker != null && device == null) {
            device = worker.device();
        }
        // batches of the recipe on the topic that the run's consumer has not read yet (null: no worker, or not known
        // yet)
        Long lag = worker == null || worker.workerState().lag() < 0
                ? null
                : worker.workerState().lag();
        return new RunView(
                run.id,
                run.recipeId,
                run.method,
                run.model,
                run.state.name(),
                device,
                run.dtype,
                run.step,
                run.epoch,
                run.maxSteps,
                run.tokensSeen,
                run.learningRate,
                run.lastLoss,
                losses,
                run.gradNorm,
                run.tokensPerSecond,
                eta,
                lag,
                run.bestStep,
                run.bestValidLoss,
                finalStep(run, worker),
                run.failure,
                run.createdAt,
                run.updatedAt);
    }

    /** The step of the run's artefact now (see {@link FinalCheckpoint}); null when not known here or none yet. */
    private Long finalStep(TrainingRun run, TrainWorker worker) {
        if (worker == null) {
            return null;
        }
        return FinalCheckpoint.finalStep(
                runs.checkpoints(run.id), run.bestStep, worker.plan().loadBestModelAtEnd());
    }

    private static CheckpointView view(SavedCheckpointRow row) {
        return new CheckpointView(
                row.step,
                row.location,
                row.format,
                row.checksum,
                row.tokensSeen,
                row.trainLoss,
                RunStore.offsets(row.consumedOffsets),
                row.status.name(),
                row.published,
                row.createdAt);
    }
}
