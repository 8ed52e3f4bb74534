package dev.streamtune.trainer.training;

import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.trainer.plan.Method;
import dev.streamtune.trainer.plan.TrainingPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A checkpoint's adapters folded into its base model and written as a plain Hugging Face checkpoint folder
 * (config.json, model.safetensors), as PEFT's {@code merge_and_unload()} and {@code save_pretrained} give: W + s B A
 * for LoRA, (m / n)(W + s B A) for DoRA, computed in float32; for a QLoRA run W is the dequantised 4-bit base. The
 * folder is written beside the checkpoints and renamed into place whole.
 */
public final class MergedExport {

    private MergedExport() {
    }

    /**
     * @param checkpoint the checkpoint folder holding the PEFT adapter
     * @param target     the export folder to create
     */
    public static Path write(TrainingPlan plan, Path checkpoint, Path target) throws IOException {
        if (plan.method() != Method.LORA && plan.method() != Method.DORA) {
            throw new IllegalArgumentException(plan.method().name().toLowerCase() + " has no adapters to merge: "
                    + (plan.method() == Method.JOLA ? "JoLA edits activations, its artefact is the JoLA file"
                    : "a full fine-tuning checkpoint is a Hugging Face folder already"));
        }
        Path temporary = target.resolveSibling(".tmp-" + target.getFileName() + "-" + System.nanoTime());
        try (NDManager manager = Compute.newManager()) {
            // a 4-bit base is loaded as it was trained (quantised), then dequantised: the adapter learnt its
            // corrections against those values, and PEFT's merge of a QLoRA adapter does the same
            CausalLm base = plan.model().load(plan.seed(), Precision.FLOAT32, plan.quantization(), manager);
            LoraAdapters adapters = PeftAdapterFolder.load(checkpoint, base, manager, false);
            if (base instanceof LlamaModel llama) {
                HfCheckpointWriter.write(temporary, llama.config(), adapters.merged(
                        llama.weights().dequantized(ai.djl.ndarray.types.DataType.FLOAT32, manager), manager));
            } else {
                Gpt2Model gpt2 = (Gpt2Model) base;
                (gpt2.quantized() ? gpt2.dequantized(manager) : gpt2).merged(adapters, manager).write(temporary);
            }
            if (Files.exists(target)) {
                throw new IOException(target + " exists already");
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            if (Files.exists(temporary)) {
                try (var walk = Files.walk(temporary)) {
                    for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(path);
                    }
                }
            }
        }
    }
}
