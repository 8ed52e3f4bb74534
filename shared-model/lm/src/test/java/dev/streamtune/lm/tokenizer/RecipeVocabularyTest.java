package dev.streamtune.lm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPT-2's vocabulary as transformers has it (50,257 tokens, {@code <|endoftext|>} 50256), with ChatML's two tokens
 * added only for a recipe whose template writes them: every service asks {@link Tokenizers#of(Recipe)}.
 */
class RecipeVocabularyTest {

    private static final String FULL = "training_config:\n  finetuning_type: full\n";

    @TempDir
    Path root;

    private TextTokenizer vocabulary(String tokenizer, String data) {
        Recipe recipe = RecipeParser.parse(
                        "model_config:\n  tokenizer: " + tokenizer + "\n" + data + FULL, "vocabulary.yaml")
                .recipe();
        return new Tokenizers(root).of(recipe);
    }

    @Test
    void gpt2IsFiftyThousandTwoHundredFiftySevenTokensWithEndOfTextLast() {
        for (String name : new String[] {"gpt2", "r50k_base"}) {
            TextTokenizer gpt2 = vocabulary(name, "data_config:\n  format_type: alpaca\n");
            assertThat(gpt2.vocabSize()).as(name).isEqualTo(50257);
            assertThat(gpt2.eos()).as(name).hasValue(50256);
            assertThat(gpt2.specialTokens()).as(name).containsOnlyKeys("<|endoftext|>");
            // GPT-2's own ids (openai-community/gpt2's tokenizer.json)
            assertThat(gpt2.encode("Hello world")).containsExactly(15496, 995);
            assertThat(gpt2.encode(" The quick brown fox")).containsExactly(383, 2068, 7586, 21831);
            assertThat(gpt2.encodeMarkup("<|endoftext|>")).containsExactly(50256);
            assertThat(gpt2.encodeMarkup("<|im_start|>"))
                    .as("not a token of GPT-2")
                    .hasSizeGreaterThan(1);
        }
    }

    @Test
    void chatMlsTokensAreAddedOnlyWhenTheTemplateWritesThem() {
        assertThat(vocabulary("gpt2", "data_config:\n  format_type: chatml\n").vocabSize())
                .isEqualTo(50259);
        assertThat(vocabulary("gpt2", "data_config:\n  format_type: chatml\n").encodeMarkup("<|im_end|><|im_start|>"))
                .containsExactly(50257, 50258);
        assertThat(vocabulary("gpt2", "").vocabSize())
                .as("no template and no model template: ChatML, the default")
                .isEqualTo(50259);
        assertThat(vocabulary("gpt2", "data_config:\n  format_type: chat\n").vocabSize())
                .isEqualTo(50257);
        assertThat(vocabulary("gpt2", "data_config:\n  format_type: instruction\n")
                        .vocabSize())
                .isEqualTo(50257);
        assertThat(vocabulary(
                                "gpt2",
                                "data_config:\n  chat_template: \"{% for m in messages %}<|im_start|>{{ m.content }}"
                                        + "<|im_end|>{% endfor %}\"\n")
                        .vocabSize())
                .as("a Jinja template that writes ChatML")
                .isEqualTo(50259);
        assertThat(vocabulary(
                                "gpt2",
                                "data_config:\n  chat_template: \"{% for m in messages %}{{ m.content }}"
                                        + "{% endfor %}\"\n")
                        .vocabSize())
                .isEqualTo(50257);
    }

    @Test
    void theModelsOwnChatTemplateDecidesWhenTheRecipeNamesNone() throws IOException {
        Path model = Files.createDirectories(root.resolve("gpt2-chat"));
        Files.writeString(
                model.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<|endoftext|>\", \"chat_template\": \"{% for m in messages %}### {{ m.role }}: "
                        + "{{ m.content }}{% endfor %}\"}");
        Recipe recipe = RecipeParser.parse(
                        "model_config:\n  tokenizer: gpt2\n  pretrained_model_name_or_path: gpt2-chat\n" + FULL,
                        "vocabulary.yaml")
                .recipe();
        assertThat(new Tokenizers(root).of(recipe).vocabSize()).isEqualTo(50257);

        Files.writeString(
                model.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>"
                        + "{% endfor %}\"}");
        assertThat(new Tokenizers(root).of(recipe).vocabSize()).isEqualTo(50259);
    }
}
