package dev.streamtune.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.events.Recipe;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What the scorer holds in memory, as {@code eval_models_held} shows it: each base kept loaded, within the cache's
 * capacity, and a full checkpoint for as long as it is scored.
 */
class ScoringModelsTest {

    private static RecipeModels.Base base(Path models, String id, String model, String tokenizer) {
        Recipe recipe = RecipeYaml.withId(id)
                .model("pretrained_model_name_or_path", model)
                .model("tokenizer", tokenizer)
                .training("finetuning_type", "full")
                .parse("test");
        return new RecipeModels(models).base(recipe);
    }

    @Test
    void theModelsHeldAreTheCachedBasesAndAFullCheckpointWhileItIsScored() throws Exception {
        Path models = SharedData.models();
        RecipeModels.Base stories = base(models, "stories", "stories260K/stories260K.bin", "stories260K");
        RecipeModels.Base gpt2 = base(models, "gpt2", "tiny-gpt2", "tiny-gpt2");
        Path fullCheckpoint = models.resolve("tiny-gpt2"); // a Hugging Face folder: what a full fine-tune writes
        String checksum = CheckpointDigest.of(fullCheckpoint);

        try (ScoringModels scoring = new ScoringModels(1)) {
            assertThat(scoring.held()).isZero();
            scoring.base("stories", stories);
            assertThat(scoring.held()).isEqualTo(1);
            scoring.base("stories", stories); // kept: not loaded again
            assertThat(scoring.held()).isEqualTo(1);

            scoring.base("gpt2", gpt2); // beyond the capacity of one: the other base is let go
            assertThat(scoring.held()).isEqualTo(1);

            int whileScored =
                    scoring.withCheckpoint("gpt2", gpt2, fullCheckpoint, "hf-full", checksum, model -> scoring.held());
            assertThat(whileScored).isEqualTo(2);
            assertThat(scoring.held()).isEqualTo(1);

            scoring.close();
            assertThat(scoring.held()).isZero();
        }
    }
}
