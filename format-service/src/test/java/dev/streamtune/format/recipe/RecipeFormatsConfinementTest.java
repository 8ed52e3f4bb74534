package dev.streamtune.format.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.RecipeDeserializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model's tokenizer_config.json (its chat template, BOS and EOS) is read under the model root only: a recipe's
 * {@code pretrained_model_name_or_path} does not reach a folder elsewhere through {@code ..}, an absolute path or a
 * link in the root.
 */
class RecipeFormatsConfinementTest {

    @TempDir
    Path folder;

    Path root;
    Path outside;
    RecipeFormats formats;

    @BeforeEach
    void lay() throws IOException {
        root = Files.createDirectories(folder.resolve("models/tiny"));
        root = root.getParent();
        outside = Files.createDirectories(folder.resolve("elsewhere"));
        tokenizerConfig(root.resolve("tiny"));
        tokenizerConfig(outside);
        formats = new RecipeFormats(root, "26 Jul 2024");
    }

    @Test
    void aModelFolderUnderTheRootGivesItsChatTemplate() {
        assertThat(formats.of(recipe("tiny")).template()).isEqualTo("jinja");
    }

    @Test
    void aModelNamedOutsideTheRootThroughDotDotIsRefused() {
        assertThatThrownBy(() -> formats.of(recipe("../elsewhere")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model_config.pretrained_model_name_or_path: '../elsewhere' leads outside the model root "
                        + root + "; only paths under it are used");
    }

    @Test
    void aModelNamedByAnAbsolutePathOutsideTheRootIsRefused() {
        assertThatThrownBy(() -> formats.of(recipe(outside.toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.pretrained_model_name_or_path: '" + outside
                        + "' leads outside the model root " + root);
    }

    @Test
    void aModelThroughALinkOutOfTheRootIsRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("linked"), outside);

        assertThatThrownBy(() -> formats.of(recipe("linked")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "model_config.pretrained_model_name_or_path: 'linked' leads outside the model root " + root);
    }

    @Test
    void aTokenizerConfigThatIsALinkOutOfTheRootIsRefused() throws IOException {
        Path linkedFile = Files.createDirectories(root.resolve("linked-file"));
        Files.createSymbolicLink(linkedFile.resolve("tokenizer_config.json"), outside.resolve("tokenizer_config.json"));

        assertThatThrownBy(() -> formats.of(recipe("linked-file")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model_config.pretrained_model_name_or_path: 'linked-file' leads outside the"
                        + " model root " + root);
    }

    @Test
    void theRefusalDoesNotSayWhetherTheOutsideFolderExists() {
        String present = messageOf(outside.toString());
        String absent = messageOf(outside.resolveSibling("absent").toString());

        assertThat(absent).isEqualTo(present.replace("elsewhere", "absent"));
    }

    private String messageOf(String model) {
        try {
            formats.of(recipe(model));
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError(model + " was not refused");
    }

    private static Recipe recipe(String model) {
        return new RecipeDeserializer()
                .deserialize(Topics.RECIPES, """
                        {"schemaVersion": 1, "id": "confined", "model_config": {"pretrained_model_name_or_path": "%s"}}
                        """.formatted(model).getBytes(StandardCharsets.UTF_8));
    }

    private static void tokenizerConfig(Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"bos_token": "<s>", "eos_token": "</s>",
                 "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}
                """);
    }
}
