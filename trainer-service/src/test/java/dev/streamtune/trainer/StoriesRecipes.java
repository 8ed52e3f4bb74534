package dev.streamtune.trainer;

import dev.streamtune.testing.RecipeYaml;
import java.util.List;

/** The recipes the trainer's tests run on the real stories260K model of ../shared. */
public final class StoriesRecipes {

    private StoriesRecipes() {}

    /** A LoRA recipe over stories260K with its own tokenizer, in the YAML users write. */
    public static String lora(String id, int maxSteps, int saveSteps) {
        return RecipeYaml.withId(id)
                .stories260K()
                .data("format_type", "chatml")
                .data("max_seq_length", 64)
                .data("packing", true)
                .training("learning_rate", "5e-3")
                .training("lr_scheduler_type", "cosine")
                .training("warmup_steps", 1)
                .training("max_steps", maxSteps)
                .training("save_steps", saveSteps)
                .training("gradient_accumulation_steps", 2)
                .training("per_device_train_batch_size", 2)
                .training("seed", 7)
                .lora("r", 4)
                .lora("lora_alpha", 8)
                .lora("lora_dropout", 0.1)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .yaml();
    }
}
