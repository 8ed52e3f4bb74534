package dev.streamtune.eval.score;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What makes a recipe version's base another base: whatever changes the base model's own scores on the same
 * examples (the model, a model from scratch's shape and seed, the tokenizer, 4 bits, the template, the generation
 * settings), and nothing that only changes training.
 */
class BaseIdentityTest {

    private static final String STORIES = RecipeYaml.withId("r")
            .stories260K()
            .data("format_type", "chatml")
            .training("learning_rate", 0.001)
            .lora("r", 4)
            .yaml();

    private static final String FROM_SCRATCH = RecipeYaml.withId("r")
            .model("architecture", "llama")
            .model("hidden_size", 32)
            .model("num_hidden_layers", 2)
            .model("num_attention_heads", 4)
            .model("tokenizer", "stories260K")
            .data("format_type", "chatml")
            .data("max_seq_length", 96)
            .training("finetuning_type", "full")
            .training("seed", 7)
            .yaml();

    private static BaseIdentity identity(String yaml) {
        Path models = SharedData.models();
        Recipe recipe = RecipeParser.parse(yaml, "test").recipe();
        return BaseIdentity.of(recipe, new RecipeModels(models).base(recipe), models);
    }

    @Test
    void aVersionThatOnlyTrainsOtherwiseKeepsItsBase() {
        BaseIdentity first = identity(STORIES);
        assertThat(identity(STORIES.replace("learning_rate: 0.001", "learning_rate: 0.0002")
                        .replace("r: 4", "r: 8")))
                .isEqualTo(first);
        // a model read from a file is the same model whatever the seed
        assertThat(identity(STORIES.replace("learning_rate: 0.001", "learning_rate: 0.001\n  seed: 3")))
                .isEqualTo(first);
        assertThat(first.key()).hasSize(16);
        assertThat(first.description()).contains("stories260K/stories260K.bin", "chatml");
    }

    @Test
    void anotherModelTokenizerQuantisationTemplateOrGenerationIsAnotherBase() {
        BaseIdentity first = identity(STORIES);
        assertThat(identity(FROM_SCRATCH)).isNotEqualTo(first);
        assertThat(identity(RecipeYaml.withId("r")
                        .model("pretrained_model_name_or_path", "tiny-gpt2")
                        .lora("r", 4)
                        .yaml()))
                .isNotEqualTo(first);
        assertThat(identity(STORIES.replace("tokenizer: stories260K", "tokenizer: gpt2")))
                .isNotEqualTo(first);
        assertThat(identity(STORIES.replace("tokenizer: stories260K", "tokenizer: stories260K\n  load_in_4bit: true")))
                .isNotEqualTo(first);
        assertThat(identity(STORIES.replace("format_type: chatml", "format_type: llama3")))
                .isNotEqualTo(first);
        assertThat(identity(STORIES + "generation_config:\n  max_new_tokens: 12\n"))
                .isNotEqualTo(first);
    }

    @Test
    void aModelFromScratchIsAnotherBaseForAnotherShapeOrSeed() {
        BaseIdentity first = identity(FROM_SCRATCH);
        assertThat(identity(FROM_SCRATCH.replace("seed: 7", "seed: 7\n  learning_rate: 0.01")))
                .isEqualTo(first);
        assertThat(identity(FROM_SCRATCH.replace("seed: 7", "seed: 8"))).isNotEqualTo(first);
        assertThat(identity(FROM_SCRATCH.replace("hidden_size: 32", "hidden_size: 64")))
                .isNotEqualTo(first);
        assertThat(identity(FROM_SCRATCH.replace("max_seq_length: 96", "max_seq_length: 128")))
                .as("the positions of a model from scratch follow max_seq_length")
                .isNotEqualTo(first);
    }
}
