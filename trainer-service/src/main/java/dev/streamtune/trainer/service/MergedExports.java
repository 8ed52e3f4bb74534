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

    public MergedExports(RunService runs, TrainerStage stage) {
        this.runs = runs;
        this.stage = stage;
    }

    /** The checkpoint's artefact as it is ({@code step}: a kept step, best, or null for the run's artefact). */
    public Export artefact(String runId, String step) {
        FinalCheckpoint.Chosen chosen = runs.checkpointFor(runId, step);
        SavedCheckpointRow checkpoint = chosen.checkpoint();
        return new Export(checkpoint.step, checkpoint.format, checkpoint.location, chosen.why());
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
        Path target = folder.resolveSibling("export-" + checkpoint.step + "-merged");
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
}
