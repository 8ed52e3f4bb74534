package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;

/**
 * A checkpoint's adapters folded into its base model and written as a plain Hugging Face checkpoint folder
 * (config.json, model.safetensors), as PEFT's {@code merge_and_unload()} and {@code save_pretrained} give: W + s B A
 * for LoRA, (m / n)(W + s B A) for DoRA, computed in float32; for a QLoRA run W is the dequantised 4-bit base. The
 * folder is written beside the checkpoints and renamed into place whole.
 */
public final class MergedExport {

    private MergedExport() {}

    /**
     * @param checkpoint the checkpoint folder holding the PEFT adapter
     * @param target     the export folder to create
     */
    public static Path write(TrainingPlan plan, Path checkpoint, Path target) throws IOException {
        Path temporary = target.resolveSibling(".tmp-" + target.getFileName() + "-" + System.nanoTime());
        try (NDManager manager = Compute.newManager()) {
            FineTuningMethod.of(plan).writeMerged(checkpoint, temporary, manager);
            if (Files.exists(target)) {
                throw new IOException(target + " exists already");
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            if (Files.exists(temporary)) {
                try (var walk = Files.walk(temporary)) {
                    for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(path);
                    }
                }
            }
        }
    }
}
