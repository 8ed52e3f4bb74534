package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.lm.io.HalfFloats;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.TensorDtype;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A checkpoint's adapters folded into its base model and written as a plain Hugging Face checkpoint folder
 * (config.json, model.safetensors), as PEFT's {@code merge_and_unload()} and {@code save_pretrained} give: W + s B A
 * for LoRA, (m / n)(W + s B A) for DoRA, computed in float32; for a QLoRA run W is the dequantised 4-bit base. The
 * weights are written in float32, or in the recipe's model_config.dtype (bfloat16, float16), rounded to nearest from
 * the float32 merge. The folder is written under a temporary name and renamed into place whole.
 */
public final class MergedExport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private MergedExport() {}

    /**
     * @param checkpoint the checkpoint folder holding the PEFT adapter
     * @param target     the export folder to create
     */
    public static Path write(TrainingPlan plan, Path checkpoint, Path target) throws IOException {
        Path temporary = target.resolveSibling(".tmp-" + target.getFileName() + "-" + System.nanoTime());
        try (NDManager manager = Compute.newManager()) {
            FineTuningMethod.of(plan).writeMerged(checkpoint, temporary, manager);
            narrow(temporary, plan.exportDtype());
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

    /**
     * The float32 weights written by the merge narrowed to {@code dtype} (model_config.dtype), rounded in Java as
     * PyTorch rounds ({@link HalfFloats}: DJL cannot hold a bfloat16 tensor), and config.json's torch_dtype with them.
     */
    private static void narrow(Path folder, TensorDtype dtype) throws IOException {
        if (dtype == TensorDtype.F32) {
            return;
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                    .toList()) {
                Safetensors.narrow(file, dtype);
            }
        }
        Path config = folder.resolve("config.json");
        if (Files.exists(config)) {
            ObjectNode json = (ObjectNode) JSON.readTree(config.toFile());
            json.put("torch_dtype", dtype == TensorDtype.BF16 ? "bfloat16" : "float16");
            JSON.writerWithDefaultPrettyPrinter().writeValue(config.toFile(), json);
        }
    }
}
