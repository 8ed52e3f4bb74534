package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.RecipeDeserializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** QLoRA's keys, wherever TRL, transformers, Axolotl and LLaMA-Factory users write them. */
class QuantizationKeysTest {

    private static final String LORA = "lora_config: {r: 8}\n";

    @Test
    void theQloraExampleParsesAsItIsAndSurvivesTheTopic() throws IOException {
        Path file = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "../.."))
                .resolve("examples/recipes/stories260K-qlora.yaml");
        Assumptions.assumeTrue(Files.exists(file), "skipped: " + file + " is absent");
        RecipeParser.Result result =
                RecipeParser.parse(Files.readString(file), file.getFileName().toString());
        QuantizationConfig config = result.recipe().modelConfig().quantizationConfig();
        assertThat(result.warnings()).isEmpty();
        assertThat(config).isEqualTo(new QuantizationConfig(true, null, "nf4", true, "float16"));
        assertThat(result.recipe().modelConfig().fourBit()).isTrue();
        String json = EventJson.mapper().writeValueAsString(result.recipe());
        assertThat(json).contains("\"quantization_config\":{\"load_in_4bit\":true");
        assertThat(new RecipeDeserializer().fromJson(json)).isEqualTo(result.recipe());
    }

    @Test
    void flatNestedAndOtherToolsSpellingsSettleToTheSameConfig() {
        QuantizationConfig expected = new QuantizationConfig(true, null, "fp4", false, "bfloat16");
        for (String recipe : new String[] {
            // flat in model_config (TRL's ModelConfig), dtype as Python writes it
            "model_config: {load_in_4bit: true, bnb_4bit_quant_type: fp4, use_bnb_nested_quant: false,"
                    + " bnb_4bit_compute_dtype: torch.bfloat16}\n" + LORA,
            // a top-level bnb_config section (the guide's BitsAndBytesConfig as YAML)
            "bnb_config: {load_in_4bit: true, bnb_4bit_quant_type: FP4, bnb_4bit_use_double_quant: false,"
                    + " bnb_4bit_compute_dtype: bf16}\n" + LORA,
            // Axolotl: flat at the top, the rest under bnb_config_kwargs
            "load_in_4bit: true\nbnb_config_kwargs: {bnb_4bit_quant_type: fp4, bnb_4bit_use_double_quant: false}\n"
                    + "model_config: {bnb_4bit_compute_dtype: bfloat16}\n" + LORA,
            // LLaMA-Factory
            "model_config: {quantization_bit: 4, quantization_type: fp4, double_quantization: false,"
                    + " quantization_method: bitsandbytes, bnb_4bit_compute_dtype: bfloat16}\n" + LORA
        }) {
            RecipeParser.Result result = RecipeParser.parse(recipe, "r.yaml");
            assertThat(result.recipe().modelConfig().quantizationConfig())
                    .as(recipe)
                    .isEqualTo(expected);
            assertThat(result.warnings()).as(recipe).isEmpty();
        }
    }

    @Test
    void qloraAsAMethodIsLoraOnAFourBitBaseWithTheQloraPapersDefaults() {
        Recipe recipe = RecipeParser.parse("training_config: {finetuning_type: qlora}", "r.yaml")
                .recipe();
        assertThat(recipe.trainingConfig().finetuningType()).isEqualTo("lora");
        QuantizationConfig config = recipe.modelConfig().quantizationConfig();
        assertThat(config.fourBit()).isTrue();
        assertThat(config.quantTypeOrDefault()).isEqualTo("nf4");
        assertThat(config.doubleQuantOrDefault()).isTrue();
        assertThat(RecipeParser.parse(LORA, "r.yaml").recipe().modelConfig()).isNull();
    }

    @Test
    void everyQuantisationProblemNamesTheKeyAsWritten() {
        RecipeException e = catchThrowableOfType(RecipeException.class, () -> RecipeParser.parse("""
                model_config:
                  load_in_8bit: true
                  quantization_config: {bnb_4bit_quant_type: int4, bnb_4bit_compute_dtype: float8, quant_method: gptq}
                bnb_config: {load_in_4bit: yes}
                training_config: {finetuning_type: full}
                """, "r.yaml"));
        assertThat(e.problems())
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.load_in_8bit: 8-bit loading")
                        .contains("use load_in_4bit: true"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.quantization_config.bnb_4bit_quant_type:")
                        .contains("fp4, nf4")
                        .contains("int4"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.quantization_config.bnb_4bit_compute_dtype:")
                        .contains("bfloat16, float16, float32"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.quantization_config.quant_method:")
                        .contains("gptq"))
                .anySatisfy(p -> assertThat(p).startsWith("bnb_config.load_in_4bit: full fine-tuning"));
    }

    @Test
    void contradictionsAndKeysWithoutEffectAreReported() {
        RecipeException e = catchThrowableOfType(
                RecipeException.class,
                () -> RecipeParser.parse(
                        "model_config: {load_in_4bit: true, quantization_config: {load_in_4bit: false}}\n" + LORA,
                        "r.yaml"));
        assertThat(e.problems())
                .singleElement()
                .asString()
                .isEqualTo(
                        "model_config.quantization_config.load_in_4bit: false contradicts model_config.load_in_4bit: true");
        RecipeException qlora = catchThrowableOfType(
                RecipeException.class,
                () -> RecipeParser.parse(
                        "model_config: {load_in_4bit: false}\ntraining_config: {finetuning_type: qlora}", "r.yaml"));
        assertThat(qlora.problems()).singleElement().asString().contains("qlora");

        RecipeParser.Result result = RecipeParser.parse("""
                model_config:
                  bnb_4bit_quant_type: nf4
                  quantization_config: {bnb_4bit_quant_storage: uint8, llm_int8_threshold: 6.0, bnb_4bit_quant_tpye: nf4}
                """ + LORA, "r.yaml");
        assertThat(result.recipe().modelConfig().fourBit()).isFalse();
        assertThat(result.warnings())
                .anySatisfy(w -> assertThat(w)
                        .startsWith("model_config.bnb_4bit_quant_type: has no effect without load_in_4bit"))
                .anySatisfy(w -> assertThat(w)
                        .startsWith("model_config.quantization_config.bnb_4bit_quant_storage:"
                                + " understood but has no effect here"))
                .anySatisfy(w -> assertThat(w).startsWith("model_config.quantization_config.llm_int8_threshold:"))
                .anySatisfy(w ->
                        assertThat(w).startsWith("model_config.quantization_config.bnb_4bit_quant_tpye: unknown key"));
    }
}
