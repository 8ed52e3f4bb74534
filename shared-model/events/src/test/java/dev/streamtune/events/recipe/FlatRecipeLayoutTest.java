package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Recipe;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The flat files of Axolotl, LLaMA-Factory and TRL's {@code trl sft --config}, in the shape of each tool's documented
 * examples (test resources under tool-configs/), read as they are: each gives the same recipe as its twin written by
 * hand in sections, and every key that changes nothing here is named with why.
 */
class FlatRecipeLayoutTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "axolotl-lora.yml",
                "axolotl-qlora.yml",
                "llamafactory-lora.yaml",
                "llamafactory-qlora.yaml",
                "trl-lora.yaml",
                "trl-qlora.yaml"
            })
    void aToolsFlatFileGivesTheSameRecipeAsItsSectionedTwin(String file) {
        String twin = file.replaceFirst("\\.(ya?ml)$", ".sections.$1");

        RecipeParser.Result flat = RecipeParser.parse(resource(file), file);
        RecipeParser.Result sectioned = RecipeParser.parse(resource(twin), twin);

        assertThat(flat.recipe()).isEqualTo(sectioned.recipe());
        assertThat(flat.warnings()).noneSatisfy(w -> assertThat(w).contains("unknown key"));
    }

    @Test
    void theQloraFilesTrainLoraOnAFourBitBase() {
        for (String file : List.of("axolotl-qlora.yml", "llamafactory-qlora.yaml", "trl-qlora.yaml")) {
            Recipe recipe = RecipeParser.parse(resource(file), file).recipe();
            assertThat(recipe.trainingConfig().finetuningType()).as(file).isEqualTo("lora");
            assertThat(recipe.modelConfig().fourBit()).as(file).isTrue();
        }
    }

    @Test
    void axolotlKeysWithoutEffectAreNamedWithWhy() {
        List<String> warnings = RecipeParser.parse(resource("axolotl-lora.yml"), "axolotl-lora.yml")
                .warnings();

        assertThat(warnings)
                .contains(
                        "the file is read as a flat Axolotl config: each key is placed in the recipe section that"
                                + " holds it",
                        "model_type: understood but has no effect here: the architecture is read from the model"
                                + " folder's config.json",
                        "strict: understood but has no effect here: it is a setting of Axolotl's launcher",
                        "tf32: understood but has no effect here: the compute type follows the device",
                        "flash_attention: understood but has no effect here: attention is computed by the runtime's"
                                + " own kernels",
                        "pad_to_sequence_len: understood but has no effect here: batches are packed or padded by"
                                + " the tokenize service",
                        "group_by_length: understood but has no effect here: batches are formed in stream order by"
                                + " the tokenize service",
                        "logging_steps: understood but has no effect here: every step is reported in metrics",
                        "bf16: auto: the compute type follows the device (bfloat16 on GPUs that support it, float32"
                                + " elsewhere), which is what auto asks for",
                        "training_config.optim: adamw_bnb_8bit is read as adamw_torch: the same AdamW update, its"
                                + " state kept in float32 and in memory (bitsandbytes' 8-bit and paged states are"
                                + " CUDA kernels this trainer does not have), so the state takes 4x the memory of"
                                + " 8-bit");
        assertThat(warnings)
                .anySatisfy(w -> assertThat(w)
                        .startsWith("datasets[0].path: mhenrichsen/alpaca_2k_test is read from the stream as"
                                + " dataset 'alpaca_2k_test'"))
                .anySatisfy(w -> assertThat(w).startsWith("datasets[0].type: alpaca: understood but has no effect"))
                .anySatisfy(w -> assertThat(w).startsWith("evals_per_epoch: understood but has no effect here"))
                .anySatisfy(w -> assertThat(w).startsWith("saves_per_epoch: understood but has no effect here"))
                .anySatisfy(w -> assertThat(w).startsWith("special_tokens.pad_token: understood but has no effect"))
                .anySatisfy(w -> assertThat(w).startsWith("val_set_size: 0.05 is read as data_config.valid_ratio"));
        // empty keys (fp16:, deepspeed:, wandb_project:...) set nothing and say nothing
        assertThat(warnings)
                .noneSatisfy(w -> assertThat(w).startsWith("fp16"))
                .noneSatisfy(w -> assertThat(w).startsWith("deepspeed"))
                .noneSatisfy(w -> assertThat(w).startsWith("wandb_"));
    }

    @Test
    void llamaFactoryKeysWithoutEffectAreNamedWithWhy() {
        List<String> warnings = RecipeParser.parse(resource("llamafactory-qlora.yaml"), "llamafactory-qlora.yaml")
                .warnings();

        assertThat(warnings)
                .contains(
                        "the file is read as a flat LLaMA-Factory config: each key is placed in the recipe section"
                                + " that holds it",
                        "trust_remote_code: understood but has no effect here: models run through this platform's"
                                + " own architectures, never remote code",
                        "do_train: understood but has no effect here: a recipe always trains",
                        "overwrite_cache: understood but has no effect here: there is no preprocessing cache;"
                                + " records are formatted as they stream",
                        "preprocessing_num_workers: understood but has no effect here: records are formatted as"
                                + " they stream, by the format service",
                        "plot_loss: understood but has no effect here: the loss by step is in /q/metrics",
                        "ddp_timeout: understood but has no effect here: a run trains on one device; there is"
                                + " nothing to shard or launch",
                        "save_only_model: understood but has no effect here: a checkpoint always holds the"
                                + " optimiser state too, for exact resume",
                        "report_to: understood but has no effect here: metrics go to /q/metrics and the evaluations"
                                + " topic");
        assertThat(warnings)
                .anySatisfy(w -> assertThat(w).startsWith("max_samples: understood but has no effect here"))
                .anySatisfy(w ->
                        assertThat(w).startsWith("dataset: identity is read from the stream as dataset 'identity'"));
    }

    @Test
    void trlKeysWithoutEffectAreNamedWithWhy() {
        List<String> warnings =
                RecipeParser.parse(resource("trl-qlora.yaml"), "trl-qlora.yaml").warnings();

        assertThat(warnings)
                .contains(
                        "the file is read as a flat TRL config: each key is placed in the recipe section that holds"
                                + " it",
                        "attn_implementation: understood but has no effect here: attention is computed by the"
                                + " runtime's own kernels",
                        "report_to: understood but has no effect here: metrics go to /q/metrics and the evaluations"
                                + " topic")
                .anySatisfy(w -> assertThat(w)
                        .startsWith("dataset_name: trl-lib/Capybara is read from the stream as dataset 'Capybara'"))
                .anySatisfy(w -> assertThat(w).startsWith("dataset_train_split: understood but has no effect here"));
    }

    @Test
    void aTyposNearestKeyIsNamedInAFlatFileToo() {
        RecipeParser.Result result = RecipeParser.parse("""
                base_model: models/tiny
                adapter: lora
                lerning_rate: 1e-4
                lora_alpah: 16
                """, "typo.yml");

        assertThat(result.warnings())
                .contains(
                        "lerning_rate: unknown key, ignored (did you mean learning_rate?)",
                        "lora_alpah: unknown key, ignored (did you mean lora_alpha?)");
        assertThat(result.recipe().trainingConfig().learningRate()).isNull();
    }

    @Test
    void aStageOtherThanSftIsRefusedWithWhy() {
        assertThatThrownBy(() -> RecipeParser.parse("""
                        model_name_or_path: models/tiny
                        stage: dpo
                        finetuning_type: lora
                        """, "dpo.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("dpo.yaml")
                .hasMessageContaining("stage: 'dpo': only supervised fine-tuning (sft) is supported here; pt, rm,"
                        + " ppo, dpo and kto are not");
    }

    @Test
    void emptyValuesSetNothingAndSayNothing() {
        RecipeParser.Result result = RecipeParser.parse("""
                base_model: models/tiny
                adapter: lora
                lora_r:
                lora_target_modules:
                fp16:
                bf16:
                deepspeed:
                special_tokens:
                datasets:
                val_set_size:
                micro_batch_size:
                """, "empty.yml");

        assertThat(result.warnings())
                .containsExactly("the file is read as a flat Axolotl config: each key is placed in the recipe"
                        + " section that holds it");
        assertThat(result.recipe().loraConfig().r()).isNull();
        assertThat(result.recipe().trainingConfig().bf16()).isNull();
    }

    @Test
    void sectionsAndFlatToolKeysTogetherAreRefusedNamingTheKeys() {
        assertThatThrownBy(() -> RecipeParser.parse("""
                        model_config: {pretrained_model_name_or_path: models/tiny}
                        lora_config: {r: 8}
                        micro_batch_size: 2
                        cutoff_len: 512
                        """, "mixed.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining(
                        "micro_batch_size, cutoff_len: flat keys beside the sections model_config," + " lora_config");
    }

    @Test
    void withoutAnAdapterAxolotlAndTrlTrainEveryWeightAndLlamaFactoryTrainsLora() {
        RecipeParser.Result axolotl = RecipeParser.parse("base_model: models/tiny\nmicro_batch_size: 2\n", "a.yml");
        assertThat(axolotl.recipe().trainingConfig().finetuningType()).isEqualTo("full");
        assertThat(axolotl.warnings()).anySatisfy(w -> assertThat(w).startsWith("adapter: not given"));

        assertThat(RecipeParser.parse("model_name_or_path: models/tiny\ndataset_name: d\nuse_peft: false\n", "t.yaml")
                        .recipe()
                        .trainingConfig()
                        .finetuningType())
                .isEqualTo("full");
        assertThat(RecipeParser.parse("model_name_or_path: models/tiny\nstage: sft\ncutoff_len: 512\n", "l.yaml")
                        .recipe()
                        .trainingConfig()
                        .finetuningType())
                .isEqualTo("lora");
        // LoRA keys that the tool would ignore for want of an adapter are a mistake to point out, not to train
        assertThatThrownBy(() -> RecipeParser.parse("base_model: models/tiny\nlora_r: 8\n", "a.yml"))
                .hasMessageContaining("adapter: not given");
        assertThatThrownBy(() ->
                        RecipeParser.parse("model_name_or_path: models/tiny\ndataset_name: d\nlora_r: 8\n", "t.yaml"))
                .hasMessageContaining("use_peft: not true");
    }

    @Test
    void trainOnInputsAndLoraTargetsAreTranslated() {
        Recipe all = RecipeParser.parse("""
                base_model: models/tiny
                adapter: lora
                train_on_inputs: true
                lora_target_modules: [q_proj, v_proj]
                """, "a.yml").recipe();
        assertThat(all.dataConfig().trainOn()).isEqualTo("all");
        assertThat(all.loraConfig().targetModules().names()).containsExactly("q_proj", "v_proj");

        Recipe lf = RecipeParser.parse("""
                model_name_or_path: models/tiny
                stage: sft
                lora_target: " q_proj, k_proj "
                template: qwen
                """, "l.yaml").recipe();
        assertThat(lf.loraConfig().targetModules().names()).containsExactly("q_proj", "k_proj");
        assertThat(lf.dataConfig().formatType()).isEqualTo("qwen");
    }

    @Test
    void templatesByTheNamesUsersWriteMapWithoutAWarning() {
        for (String name : List.of("qwen", "mistral", "gemma", "phi", "llama2", "zephyr", "vicuna")) {
            RecipeParser.Result lf = RecipeParser.parse(
                    "model_name_or_path: models/tiny\nstage: sft\ntemplate: " + name + "\n", "l.yaml");
            assertThat(lf.recipe().dataConfig().formatType()).isEqualTo(name);
            assertThat(lf.warnings()).noneSatisfy(w -> assertThat(w).contains("template"));
        }
        RecipeParser.Result axolotl =
                RecipeParser.parse("base_model: models/tiny\nadapter: lora\nchat_template: phi_3\n", "a.yml");
        assertThat(axolotl.recipe().dataConfig().chatTemplate()).isEqualTo("phi_3");
        assertThat(axolotl.warnings()).noneSatisfy(w -> assertThat(w).contains("chat_template"));

        RecipeParser.Result unknown =
                RecipeParser.parse("model_name_or_path: models/tiny\nstage: sft\ntemplate: falcon\n", "l.yaml");
        assertThat(unknown.warnings())
                .anySatisfy(w -> assertThat(w)
                        .contains("template: falcon: not a template here")
                        .contains("zephyr"));
    }

    private static String resource(String name) {
        try (InputStream in = FlatRecipeLayoutTest.class.getResourceAsStream("/tool-configs/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource tool-configs/" + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
