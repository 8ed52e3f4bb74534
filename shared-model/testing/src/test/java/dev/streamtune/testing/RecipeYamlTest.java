package dev.streamtune.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecipeYamlTest {

    @Test
    void writesSectionsAndKeysInTheOrderGivenAsBlockYaml() {
        String yaml = RecipeYaml.withId("r")
                .stories260K()
                .data("format_type", "chatml")
                .training("learning_rate", "5e-3")
                .lora("r", 4)
                .lora("target_modules", List.of("q_proj", "v_proj"))
                .training("seed", 7)
                .yaml();

        assertThat(yaml).isEqualTo("""
                id: r
                model_config:
                  pretrained_model_name_or_path: stories260K/stories260K.bin
                  tokenizer: stories260K
                data_config:
                  format_type: chatml
                training_config:
                  learning_rate: 5e-3
                  seed: 7
                lora_config:
                  r: 4
                  target_modules: [q_proj, v_proj]
                """);
    }

    @Test
    void writesDoublesInPlainDecimals() {
        assertThat(RecipeYaml.withId("r")
                        .jola("gate_lambda", 0.0004)
                        .lora("lora_dropout", 0.1)
                        .lora("lora_alpha", 16.0)
                        .yaml())
                .isEqualTo("id: r\njola_config:\n  gate_lambda: 0.0004\nlora_config:\n  lora_dropout: 0.1\n"
                        + "  lora_alpha: 16.0\n");
    }

    @Test
    void theTextIsARecipeTheParserReads() {
        Recipe recipe = RecipeYaml.named("mix")
                .model("tokenizer", "r50k_base")
                .data("datasets", List.of(Map.of("name", "a", "weight", 0.8), Map.of("name", "b", "weight", 0.2)))
                .data("format_type", "chatml")
                .training("finetuning_type", "lora")
                .lora("r", 8)
                .parse("mix.yaml");

        assertThat(recipe.name()).isEqualTo("mix");
        assertThat(recipe.modelConfig().tokenizer()).isEqualTo("r50k_base");
        assertThat(recipe.dataConfig().datasets()).hasSize(2);
        assertThat(recipe.dataConfig().datasets().get(1).weight()).isEqualTo(0.2);
        assertThat(recipe.loraConfig().r()).isEqualTo(8);
    }
}
