package dev.streamtune.trainer.service;

import dev.streamtune.events.ConfinedPath;
import dev.streamtune.trainer.config.TrainerConfig;
import dev.streamtune.trainer.run.SavedCheckpointRow;
import dev.streamtune.trainer.training.MergedExport;
import dev.streamtune.trainer.worker.TrainWorker;
import dev.streamtune.trainer.worker.TrainerStage;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A run's checkpoint for use outside the platform: its artefact (the newest checkpoint, or the best with
 * load_best_model_at_end; or the step asked for, see {@link FinalCheckpoint}), its LoRA/DoRA adapters folded into the
 * base model as a Hugging Face folder, written once per checkpoint beside it ({@code export-<step>-merged/}), or where
 * its artefact is.
 */
@ApplicationScoped
public class MergedExports {

    /** What was exported: the checkpoint's step, the artefact's format, where it is, and why that checkpoint. */
    public record Export(long step, String format, String location, String checkpoint) {}

    private final RunService runs;
    private final TrainerStage stage;
    private final ConfinedPath checkpointRoot;

    public MergedExports(RunService runs, TrainerStage stage, TrainerConfig config) {
        this.runs = runs;
        this.stage = stage;
        this.checkpointRoot = new ConfinedPath(config.checkpointRoot(), "checkpoint root");
    }

    /** The checkpoint's artefact as it is ({@code step}: a kept step, best, or null for the run's artefact). */
    public Export artefact(String runId, String step) {
        FinalCheckpoint.Chosen chosen = runs.checkpointFor(runId, step);
        SavedCheckpointRow checkpoint = chosen.checkpoint();
        return new Export(checkpoint.step, checkpoint.format, checkpoint.location, chosen.why());
    }

    /**
     * A kept checkpoint's folder as a tar ({@code step}: a kept step, best, or null for the run's artefact). Its folder
     * must lie under the checkpoint root, and hold only files and folders.
     */
    public CheckpointArchive archive(String runId, String step) {
        SavedCheckpointRow checkpoint = runs.checkpointFor(runId, step).checkpoint();
        Path folder;
        try {
            folder = checkpointRoot.confine(
                    Path.of(URI.create(checkpoint.location)), checkpoint.location, "the checkpoint's location");
            return CheckpointArchive.of(folder);
        } catch (IllegalArgumentException | IOException e) {
            throw new RunConflictException(
                    "run " + runId + ": checkpoint " + checkpoint.step + " cannot be archived: " + e.getMessage());
        }
    }

    /** The checkpoint merged into the base model (written on first asking). */
    public Export merged(String runId, String step) {
        TrainWorker worker = stage.workerOf(runId);
        if (worker == null) {
            runs.run(runId); // a 404 for a run that does not exist
            throw new RunConflictException("run " + runId + " is not active on this instance: its plan (the base model)"
                    + " is not known here");
        }
        FinalCheckpoint.Chosen chosen = runs.checkpointFor(runId, step);
        SavedCheckpointRow checkpoint = chosen.checkpoint();
        Path folder = Path.of(URI.create(checkpoint.location));
        Path target;
        try {
            target = target(checkpointRoot, worker.plan().outputDir(), folder, runId, checkpoint.step);
        } catch (IllegalArgumentException e) {
            throw new RunConflictException("run " + runId + ": " + e.getMessage());
        }
        try {
            if (!Files.exists(target)) {
                MergedExport.write(worker.plan(), folder, target);
            }
        } catch (IllegalArgumentException e) {
            throw new RunConflictException("run " + runId + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("run " + runId + ": cannot write the merged export: " + e.getMessage(), e);
        }
        return new Export(checkpoint.step, "hf-merged", target.toUri().toString(), chosen.why());
    }

    /**
     * Where the merged export of checkpoint {@code step} goes: beside the checkpoint ({@code export-<step>-merged/}),
     * or with output_dir under it, in the run's own folder ({@code <output_dir>/<run id>/export-<step>-merged/}: the
     * runs of a recipe's versions share its output_dir). output_dir was confined when the recipe was planned; it is
     * confined again here, as a link may have been put in its way since.
     *
     * @throws IllegalArgumentException naming output_dir when the export would land outside the checkpoint root
     */
    static Path target(ConfinedPath checkpointRoot, Path outputDir, Path checkpointFolder, String runId, long step) {
        String name = "export-" + step + "-merged";
        if (outputDir == null) {
            return checkpointFolder.resolveSibling(name);
        }
        return checkpointRoot.confine(
                outputDir.resolve(runId).resolve(name), outputDir.toString(), "training_config.output_dir");
    }
}
