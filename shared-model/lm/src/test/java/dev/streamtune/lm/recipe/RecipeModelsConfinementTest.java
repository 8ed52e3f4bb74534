package dev.streamtune.lm.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Recipe;
import dev.streamtune.testing.RecipeYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A recipe reads models and tokenizers under the model root only: not through {@code ..}, not by an absolute path
 * elsewhere, not through a link in the root that points out of it; and its refusal does not tell whether the outside
 * path exists.
 */
class RecipeModelsConfinementTest {

    @TempDir
    Path folder;

    Path root;
    Path outside;
    RecipeModels models;

    @BeforeEach
    void lay() throws IOException {
        root = Files.createDirectories(folder.resolve("models"));
        outside = Files.createDirectories(folder.resolve("elsewhere"));
        tokenizerJson(root.resolve("tiny"));
        gpt2(root.resolve("tiny"));
        tokenizerJson(outside);
        gpt2(outside);
        models = new RecipeModels(root);
    }

    @Test
    void aTokenizerUnderTheRootLoads() {
        assertThat(models.base(fromScratch("tiny/tokenizer.json")).tokenizer().vocabSize())
                .isEqualTo(8);
        assertThat(models.base(fromScratch("tiny")).tokenizer().vocabSize()).isEqualTo(8);
    }

    @Test
    void aTokenizerThroughDotDotIsRefused() {
        assertThatThrownBy(() -> models.base(fromScratch("../elsewhere/tokenizer.json")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.tokenizer: '../elsewhere/tokenizer.json' leads outside the model"
                        + " root " + root);
    }

    @Test
    void aTokenizerAtAnAbsolutePathOutsideIsRefused() {
        String named = outside.resolve("tokenizer.json").toString();

        assertThatThrownBy(() -> models.base(fromScratch(named)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.tokenizer: '" + named + "' leads outside the model root " + root);
    }

    @Test
    void aTokenizerThroughALinkOutOfTheRootIsRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("linked"), outside);

        assertThatThrownBy(() -> models.base(fromScratch("linked/tokenizer.json")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.tokenizer: 'linked/tokenizer.json' leads outside the model root");
        assertThatThrownBy(() -> models.base(fromScratch("linked")))
                .hasMessageContaining("model_config.tokenizer: 'linked' leads outside the model root");
    }

    @Test
    void aTokenizerFileThatIsALinkOutOfTheRootIsRefused() throws IOException {
        Path folder = Files.createDirectories(root.resolve("linked-file"));
        Files.createSymbolicLink(folder.resolve("tokenizer.json"), outside.resolve("tokenizer.json"));

        assertThatThrownBy(() -> models.base(fromScratch("linked-file")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.tokenizer: 'linked-file' leads outside the model root " + root);
    }

    @Test
    void theTokenizerRefusalDoesNotSayWhetherTheOutsidePathExists() {
        String present = messageOf(fromScratch(outside.resolve("tokenizer.json").toString()));
        String absent = messageOf(fromScratch(outside.resolve("absent.json").toString()));

        assertThat(absent).isEqualTo(present.replace("tokenizer.json", "absent.json"));
    }

    @Test
    void aModelUnderTheRootLoads() {
        Recipe recipe = RecipeYaml.named("inside")
                .training("finetuning_type", "full")
                .model("pretrained_model_name_or_path", "tiny")
                .parse("inside.yaml");

        assertThat(models.base(recipe).model().path()).isEqualTo(root.resolve("tiny"));
    }

    @Test
    void aModelThroughDotDotOrAnAbsolutePathOutsideIsRefused() {
        for (String named : new String[] {"../elsewhere", outside.toString()}) {
            Recipe recipe = RecipeYaml.named("escape")
                    .training("finetuning_type", "full")
                    .model("pretrained_model_name_or_path", named)
                    .parse("escape.yaml");

            assertThatThrownBy(() -> models.base(recipe))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("model_config.pretrained_model_name_or_path: '" + named
                            + "' leads outside the model root " + root);
        }
    }

    @Test
    void aModelThroughALinkOutOfTheRootIsRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("linked"), outside);
        Recipe recipe = RecipeYaml.named("escape")
                .training("finetuning_type", "full")
                .model("pretrained_model_name_or_path", "linked")
                .model("tokenizer", "tiny")
                .parse("escape.yaml");

        assertThatThrownBy(() -> models.base(recipe))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "model_config.pretrained_model_name_or_path: 'linked' leads outside the model root " + root);
    }

    /** A Llama from scratch over {@code tokenizer}, so only the tokenizer is read from disk. */
    private static Recipe fromScratch(String tokenizer) {
        return RecipeYaml.named("scratch")
                .training("finetuning_type", "full")
                .model("architecture", "llama")
                .model("tokenizer", tokenizer)
                .model("hidden_size", 8)
                .model("num_hidden_layers", 1)
                .model("num_attention_heads", 2)
                .parse("scratch.yaml");
    }

    private String messageOf(Recipe recipe) {
        try {
            models.base(recipe);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("the recipe was not refused");
    }

    /** A word-level tokenizer.json of 8 words. */
    private static void tokenizerJson(Path folder) throws IOException {
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
                 "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3,
                 "d": 4, "e": 5, "f": 6, "g": 7}}}
                """);
    }

    /** A GPT-2 configuration (no weights: only the configuration is read when a recipe is settled). */
    private static void gpt2(Path folder) throws IOException {
        Files.writeString(folder.resolve("config.json"), """
                {"model_type": "gpt2", "n_embd": 4, "n_head": 2, "n_layer": 1, "n_positions": 16, "vocab_size": 8}
                """);
    }
}
