package dev.streamtune.trainer.service;

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
 * A run's newest checkpoint for use outside the platform: its LoRA/DoRA adapters folded into the base model as a
 * Hugging Face folder, written once per checkpoint beside it ({@code export-<step>-merged/}), or where its artefact is.
 */
@ApplicationScoped
public class MergedExports {

    /** What was exported: the checkpoint's step, the artefact's format and where it is. */
    public record Export(long step, String format, String location) {}

    private final RunService runs;
    private final TrainerStage stage;

    public MergedExports(RunService runs, TrainerStage stage) {
        this.runs = runs;
        this.stage = stage;
    }

    /** The newest checkpoint's artefact as it is. */
    public Export artefact(String runId) {
        SavedCheckpointRow newest = runs.newestCheckpoint(runId);
        return new Export(newest.step, newest.format, newest.location);
    }

    /** The newest checkpoint merged into the base model (written on first asking). */
    public Export merged(String runId) {
        SavedCheckpointRow newest = runs.newestCheckpoint(runId);
        TrainWorker worker = stage.workerOf(runId);
        if (worker == null) {
            throw new RunConflictException("run " + runId + " is not active on this instance: its plan (the base model)"
                    + " is not known here");
        }
        Path folder = Path.of(URI.create(newest.location));
        Path target = folder.resolveSibling("export-" + newest.step + "-merged");
        try {
            if (!Files.exists(target)) {
                MergedExport.write(worker.plan(), folder, target);
            }
        } catch (IllegalArgumentException e) {
            throw new RunConflictException("run " + runId + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("run " + runId + ": cannot write the merged export: " + e.getMessage(), e);
        }
        return new Export(newest.step, "hf-merged", target.toUri().toString());
    }
}
