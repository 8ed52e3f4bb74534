package dev.streamtune.trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The real models in ../shared (present in CI); tests that need them skip, with a message, without them. */
public final class SharedModels {

    private SharedModels() {
    }

    /** The folder holding stories260K/ and tiny-gpt2/, used as the trainer's model root. */
    public static Path root() {
        Path models = Path.of(System.getProperty("streamtune.shared.dir", "../../shared")).toAbsolutePath().normalize()
                .resolve("models");
        Assumptions.assumeTrue(Files.exists(models.resolve("stories260K/stories260K.bin")),
                "skipped: " + models + " is absent (the shared/ folder beside the project is not here)");
        return models;
    }

    /** A LoRA recipe over stories260K with its own tokenizer, in the YAML users write. */
    public static String loraRecipe(String id, int maxSteps, int saveSteps) {
        return """
                id: %s
                model_config:
                  pretrained_model_name_or_path: stories260K/stories260K.bin
                  tokenizer: stories260K
                data_config:
                  format_type: chatml
                  max_seq_length: 64
                  packing: true
                training_config:
                  learning_rate: 5e-3
                  lr_scheduler_type: cosine
                  warmup_steps: 1
                  max_steps: %d
                  save_steps: %d
                  gradient_accumulation_steps: 2
                  per_device_train_batch_size: 2
                  seed: 7
                lora_config:
                  r: 4
                  lora_alpha: 8
                  lora_dropout: 0.1
                  target_modules: [q_proj, v_proj]
                """.formatted(id, maxSteps, saveSteps);
    }
}
