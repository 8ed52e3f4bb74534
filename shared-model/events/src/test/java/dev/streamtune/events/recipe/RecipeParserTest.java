package dev.streamtune.events.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.RecipeDeserializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Recipes as users write them: the two examples parse as they are; mistakes are all reported, with paths. */
class RecipeParserTest {

    private static final Path EXAMPLES = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "../.."))
            .resolve("examples/recipes");

    @Test
    void theJolaExampleInTheAuthorsLayoutParsesAsItIs() throws IOException {
        RecipeParser.Result result = RecipeParser.parse(example("jola-sharegpt.yaml"), "jola-sharegpt.yaml");
        Recipe recipe = result.recipe();

        assertThat(recipe.modelConfig().pretrainedModelNameOrPath()).isEqualTo("meta-llama/Llama-3.1-8B-Instruct");
        assertThat(recipe.modelConfig().appliedModule()).isEqualTo("attention");
        assertThat(recipe.modelConfig().device()).isEqualTo("cuda");
        assertThat(recipe.dataConfig().taskName()).isEqualTo("sharegpt");
        assertThat(recipe.dataConfig().trainSize()).isEqualTo(200);
        assertThat(recipe.trainingConfig().learningRate()).isEqualTo(0.005);
        assertThat(recipe.trainingConfig().warmupSteps()).isEqualTo(50);
        assertThat(recipe.trainingConfig().evaluationStrategy()).isEqualTo("epoch");
        assertThat(recipe.trainingConfig().loadBestModelAtEnd()).isTrue(); // YAML's True
        assertThat(recipe.trainingConfig().bf16()).isFalse();
        assertThat(recipe.trainingConfig().finetuningType()).isEqualTo("jola");
        assertThat(recipe.jolaConfig()).isEqualTo(new JolaConfig(4e-5, "expon", null));
        assertThat(recipe.loraConfig()).isNull();
        assertThat(result.warnings())
                .containsExactlyInAnyOrder(
                        "training_config.report_to: understood but has no effect here: metrics go to /q/metrics and the evaluations topic",
                        "training_config.logging_strategy: understood but has no effect here: every step is reported in metrics",
                        "training_config.do_train: understood but has no effect here: a recipe always trains",
                        "training_config.do_eval: understood but has no effect here: every checkpoint is evaluated by eval-service",
                        "model_config.device: accepted but has no effect here: "
                                + RecipeParser.acceptedWithoutEffect().get("model_config.device"),
                        "model_config.cache_dir: accepted but has no effect here: "
                                + RecipeParser.acceptedWithoutEffect().get("model_config.cache_dir"),
                        "model_config.applied_module: accepted but has no effect here: "
                                + RecipeParser.acceptedWithoutEffect().get("model_config.applied_module"),
                        "model_config.base_model_name: accepted but has no effect here: "
                                + RecipeParser.acceptedWithoutEffect().get("model_config.base_model_name"),
                        "data_config.data_path: accepted but has no effect here: "
                                + RecipeParser.acceptedWithoutEffect().get("data_config.data_path"));
        assertThat(recipe.id())
                .isEqualTo(RecipeParser.parse(example("jola-sharegpt.yaml"), "again")
                        .recipe()
                        .id())
                .startsWith("recipe-");
    }

    @Test
    void yaml11SpellingsOfNumbersAndBooleansAreRead() {
        Recipe recipe = RecipeParser.parse("""
                training_config: {learning_rate: 5e-3, bf16: yes, finetuning_type: full, num_train_epochs: "3"}
                """, "r.yaml").recipe();
        assertThat(recipe.trainingConfig().learningRate()).isEqualTo(5e-3);
        assertThat(recipe.trainingConfig().bf16()).isTrue();
        assertThat(recipe.trainingConfig().numTrainEpochs()).isEqualTo(3.0);
    }

    @Test
    void theTrlPeftLoraExampleParsesAsItIs() throws IOException {
        RecipeParser.Result result = RecipeParser.parse(example("lora-sft.yaml"), "lora-sft.yaml");
        Recipe recipe = result.recipe();

        assertThat(recipe.id()).isEqualTo("smollm-lora-sft");
        assertThat(recipe.dataConfig().datasets())
                .containsExactly(new DatasetWeight("sharegpt", 0.7), new DatasetWeight("alpaca", 0.3));
        assertThat(recipe.dataConfig().packing()).isTrue();
        assertThat(recipe.dataConfig().validRatio()).isEqualTo(0.05);
        assertThat(recipe.trainingConfig().gradientAccumulationSteps()).isEqualTo(4);
        assertThat(recipe.trainingConfig().optim()).isEqualTo("adamw_torch");
        assertThat(recipe.trainingConfig().finetuningType()).isEqualTo("lora");
        assertThat(recipe.loraConfig().r()).isEqualTo(16);
        assertThat(recipe.loraConfig().loraAlpha()).isEqualTo(32.0);
        assertThat(recipe.loraConfig().targetModules().names())
                .containsExactly("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        assertThat(recipe.trainingConfig().gradientCheckpointing()).isFalse();
        assertThat(result.warnings()).noneSatisfy(w -> assertThat(w).contains("gradient_checkpointing"));
    }

    @Test
    void unknownKeysAreReportedWithTheirPathAndTheNearestKnownKey() {
        RecipeParser.Result result = RecipeParser.parse("""
                name: typo
                training_config:
                  lerning_rate: 1e-4
                  finetuning_type: full
                data_config:
                  max_seq_lenght: 512
                  shuffle_buffer: 10
                extras: 1
                """, "typo.yaml");

        assertThat(result.warnings())
                .contains(
                        "training_config.lerning_rate: unknown key, ignored (did you mean learning_rate?)",
                        "data_config.max_seq_lenght: unknown key, ignored (did you mean max_seq_length?)",
                        "data_config.shuffle_buffer: unknown key, ignored",
                        "extras: unknown key, ignored");
        assertThat(result.recipe().trainingConfig().learningRate()).isNull();
    }

    private static final String FULL = "training_config:\n  finetuning_type: full\n";

    @Test
    void formatTypeAcceptsTemplatesByTheNamesUsersWrite() {
        for (String name : List.of("qwen", "mistral", "gemma", "phi3", "llama2", "zephyr", "vicuna")) {
            Recipe recipe = RecipeParser.parse(FULL + "data_config:\n  format_type: " + name + "\n", "named.yaml")
                    .recipe();
            assertThat(recipe.dataConfig().formatType()).isEqualTo(name);
        }
        RecipeException e = catchThrowableOfType(
                RecipeException.class,
                () -> RecipeParser.parse(FULL + "data_config:\n  format_type: falcon\n", "named.yaml"));
        assertThat(e.problems())
                .singleElement()
                .asString()
                .startsWith(
                        "data_config.format_type: expected one of chatml, instruction, alpaca, chat, llama3, jinja,")
                .contains("qwen", "mistral", "gemma", "phi3", "llama2", "zephyr", "vicuna")
                .endsWith("found 'falcon'");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        RecipeException e = catchThrowableOfType(RecipeException.class, () -> RecipeParser.parse("""
                id: "bad id!"
                data_config:
                  max_seq_length: long
                  train_on: everything-please
                  valid_ratio: 0.6
                  test_ratio: 0.5
                training_config:
                  learning_rate: -1
                  lr_scheduler_type: wavy
                lora_config:
                  r: 0
                  lora_dropout: 1.5
                  bias: all
                """, "bad.yaml"));

        assertThat(e.problems())
                .containsExactlyInAnyOrder(
                        "id: 'bad id!' must be 1-100 letters, digits, '.', '_' or '-' (it names Kafka keys and consumer groups)",
                        "data_config.max_seq_length: expected a whole number, found \"long\"",
                        "data_config.train_on: expected one of assistant, last_assistant, all, found 'everything-please'",
                        "data_config: valid_ratio + test_ratio = 1.1 leaves nothing to train on",
                        "training_config.learning_rate: must be positive, found -1.0",
                        "training_config.lr_scheduler_type: expected one of constant, constant_with_warmup, linear, cosine,"
                                + " cosine_with_restarts, polynomial, cosine_with_min_lr, warmup_stable_decay, inverse_sqrt,"
                                + " found 'wavy'",
                        "lora_config.r: must be positive, found 0",
                        "lora_config.lora_dropout: expected a probability in [0, 1), found 1.5",
                        "lora_config.bias: expected one of none, found 'all'");
        assertThat(e.getMessage()).startsWith("bad.yaml: 9 problems:");
    }

    @Test
    void maxNewTokensIsBoundedByTheLongestContextOfAnyFamily() {
        String recipe = "lora_config: {r: 8}\ngeneration_config: {max_new_tokens: %d}";
        assertThat(RecipeParser.parse(recipe.formatted(GenerationSettings.MAX_NEW_TOKENS_LIMIT), "r.yaml")
                        .recipe()
                        .generationConfig()
                        .maxNewTokens())
                .isEqualTo(GenerationSettings.MAX_NEW_TOKENS_LIMIT);
        assertThatThrownBy(() -> RecipeParser.parse(recipe.formatted(2_000_000_000), "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("generation_config.max_new_tokens: must be at most 131072, found 2000000000");
    }

    @Test
    void fullFineTuningMustBeAskedFor() {
        assertThatThrownBy(() -> RecipeParser.parse("training_config: {learning_rate: 1e-5}", "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("finetuning_type: full trains every weight");
        assertThat(RecipeParser.parse("training_config: {finetuning_type: full}", "r.yaml")
                        .recipe()
                        .trainingConfig()
                        .finetuningType())
                .isEqualTo("full");
        assertThatThrownBy(() -> RecipeParser.parse("lora_config: {r: 8}\njola_config: {gate_lambda: 1e-4}", "r.yaml"))
                .hasMessageContaining("both given");
        assertThat(RecipeParser.parse("lora_config: {r: 8, use_dora: true}", "r.yaml")
                        .recipe()
                        .trainingConfig()
                        .finetuningType())
                .isEqualTo("dora");
        assertThat(RecipeParser.parse("training_config: {finetuning_type: dora}", "r.yaml")
                        .recipe()
                        .loraConfig()
                        .useDora())
                .isTrue();
    }

    @Test
    void axolotlAndPeftNamesAreAcceptedForTheSameSettings() {
        Recipe recipe = RecipeParser.parse("""
                model_config: {base_model: my/model}
                data_config: {sequence_len: 4096, sample_packing: true, datasets: [a, b]}
                training_config: {micro_batch_size: 2, num_epochs: 1, lr_scheduler: linear, adapter: lora}
                lora_config: {lora_r: 32, lora_target_modules: all-linear}
                """, "axolotl.yaml").recipe();

        assertThat(recipe.modelConfig().pretrainedModelNameOrPath()).isEqualTo("my/model");
        assertThat(recipe.dataConfig().maxSeqLength()).isEqualTo(4096);
        assertThat(recipe.dataConfig().packing()).isTrue();
        assertThat(recipe.dataConfig().datasets())
                .extracting(DatasetWeight::name)
                .containsExactly("a", "b");
        assertThat(recipe.trainingConfig().perDeviceTrainBatchSize()).isEqualTo(2);
        assertThat(recipe.loraConfig().r()).isEqualTo(32);
        assertThat(recipe.loraConfig().targetModules().regex()).isEqualTo("all-linear");
    }

    /**
     * Axolotl's val_set_size and LLaMA-Factory's val_size are the recipe's valid_ratio; 0 (Axolotl's "no validation
     * set") carves nothing. A count of examples cannot be carved from a stream, so it is refused, naming the key and
     * what to write instead.
     */
    @Test
    void valSetSizeAndValSizeAreTheValidRatioAndACountIsRefusedNamingValidSize() {
        String full = "training_config: {finetuning_type: full}\n";
        assertThat(RecipeParser.parse(full + "data_config: {val_set_size: 0.1}", "axolotl.yaml")
                        .recipe()
                        .dataConfig()
                        .validRatio())
                .isEqualTo(0.1);
        assertThat(RecipeParser.parse(full + "data_config: {val_size: 0.02}", "llamafactory.yaml")
                        .recipe()
                        .dataConfig()
                        .validRatio())
                .isEqualTo(0.02);
        assertThat(RecipeParser.parse(full + "data_config: {val_set_size: 0}", "axolotl.yaml")
                        .recipe()
                        .dataConfig()
                        .validRatio())
                .isEqualTo(0.0);

        RecipeException count = catchThrowableOfType(
                RecipeException.class,
                () -> RecipeParser.parse(full + "data_config: {val_set_size: 200}", "axolotl.yaml"));
        assertThat(count.problems())
                .containsExactly("data_config.valid_ratio (val_set_size, val_size): 200 is a count of examples;"
                        + " a recipe carves its validation set from the stream by a fraction (e.g. 0.05), and"
                        + " data_config.valid_size bounds how many of them are evaluated");
        RecipeException negative = catchThrowableOfType(
                RecipeException.class, () -> RecipeParser.parse(full + "data_config: {test_ratio: -0.1}", "r.yaml"));
        assertThat(negative.problems())
                .containsExactly("data_config.test_ratio: expected a fraction in [0, 1), found -0.1");
    }

    /**
     * transformers' lr_scheduler_kwargs, as a mapping or as the JSON text its command line takes: keys checked like a
     * section's (a typo is named with its nearest key), values of the right kind.
     */
    @Test
    void schedulerKwargsAreReadAsAMappingOrAsJsonText() {
        RecipeParser.Result mapping = RecipeParser.parse("""
                training_config:
                  finetuning_type: full
                  lr_scheduler_type: cosine_with_min_lr
                  lr_scheduler_kwargs: {min_lr: 1e-5, num_cycle: 0.5}
                """, "r.yaml");
        assertThat(mapping.recipe().trainingConfig().lrSchedulerKwargs().minLr())
                .isEqualTo(1e-5);
        assertThat(mapping.warnings())
                .containsExactly(
                        "training_config.lr_scheduler_kwargs.num_cycle: unknown key, ignored (did you mean num_cycles?)");
        SchedulerKwargs text =
                RecipeParser.parse("""
                training_config:
                  finetuning_type: full
                  lr_scheduler_type: warmup_stable_decay
                  lr_scheduler_kwargs: '{"num_decay_steps": 20, "decay_type": "linear"}'
                """, "r.yaml").recipe().trainingConfig().lrSchedulerKwargs();
        assertThat(text.numDecaySteps()).isEqualTo(20);
        assertThat(text.decayType()).isEqualTo("linear");
        assertThatThrownBy(() -> RecipeParser.parse("""
                training_config: {finetuning_type: full, lr_scheduler_kwargs: {power: steep}}
                """, "r.yaml"))
                .hasMessageContaining("training_config.lr_scheduler_kwargs.power: expected a number, found \"steep\"");
        assertThatThrownBy(() -> RecipeParser.parse("""
                training_config: {finetuning_type: full, lr_scheduler_type: reduce_lr_on_plateau}
                """, "r.yaml"))
                .hasMessageContaining("reduce_lr_on_plateau lowers the rate when evaluations stall");
    }

    @Test
    void jsonAndYamlGiveTheSameRecipeAndItSurvivesTheTopic() throws IOException {
        Recipe fromYaml =
                RecipeParser.parse(example("lora-sft.yaml"), "lora-sft.yaml").recipe();
        String json = EventJson.mapper().writeValueAsString(fromYaml);
        Recipe fromJson = RecipeParser.parse(json, "body.json").recipe();
        assertThat(fromJson).isEqualTo(fromYaml);
        assertThat(new RecipeDeserializer().fromJson(json)).isEqualTo(fromYaml);
    }

    @Test
    void malformedTextSaysWhere() {
        assertThatThrownBy(() -> RecipeParser.parse("data_config:\n  datasets: [a, b\n", "broken.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageStartingWith("broken.yaml: 1 problem")
                .hasMessageContaining("line");
        assertThatThrownBy(() -> RecipeParser.parse("- just\n- a list\n", "list.yaml"))
                .hasMessageContaining("a recipe is a mapping of sections");
    }

    // Counter-examples RecipeParserFuzzTest found, kept as examples.

    @Test
    void nestingPastTheLimitIsAProblemNotANullPointer() {
        assertThatThrownBy(() -> RecipeParser.parse("[".repeat(50_000) + "]".repeat(50_000), "deep.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("not valid YAML or JSON")
                .hasMessageContaining("nesting depth");
    }

    @Test
    void aWholeNumberTooLargeForItsFieldIsAProblemNamingIt() {
        assertThatThrownBy(() -> RecipeParser.parse(
                        "training_config:\n  finetuning_type: full\n  max_steps: '-" + "9".repeat(400) + "'\n",
                        "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("training_config.max_steps: expected a whole number of at most");
        // not wrapped around into another number
        assertThatThrownBy(() -> RecipeParser.parse(
                        "training_config: {finetuning_type: full, max_steps: 18446744073709551617}", "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("training_config.max_steps: expected a whole number of at most");
    }

    @Test
    void aRecipeOverTheSizeLimitIsRefusedBeforeItIsParsed() {
        String huge = "training_config: {finetuning_type: full}\nname: '" + "x".repeat(200_000) + "'\n";

        assertThatThrownBy(() -> RecipeParser.parse(huge, "huge.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("the recipe has " + huge.length() + " characters, over the limit of ");
    }

    @Test
    void anAliasIsRefusedRatherThanReadAsItsAnchorsName() {
        assertThatThrownBy(() -> RecipeParser.parse(
                        "name: &prompt Be brief.\ntraining_config: {finetuning_type: full}\n"
                                + "data_config:\n  system_prompt: *prompt\n",
                        "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("line 4: the alias *prompt is not supported");
    }

    private static String example(String name) throws IOException {
        Path file = EXAMPLES.resolve(name);
        Assumptions.assumeTrue(Files.exists(file), "skipped: " + file + " is absent");
        return Files.readString(file);
    }

    /** Found by RecipeSubmissionFuzzTest: a recipe sent twice in one body was read as its last copy, in silence. */
    @Test
    void aKeyWrittenTwiceIsRefusedNamingItAndItsLine() {
        String once = "id: twice\ntraining_config:\n  learning_rate: 1e-4\n";

        assertThatThrownBy(() -> RecipeParser.parse(once + "training_config:\n  learning_rate: 5\n", "twice.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("twice.yaml")
                .hasMessageContaining("line 4")
                .hasMessageContaining("Duplicate field 'training_config'");
    }

    @Test
    void eightBitAdamwRunsAsAdamwAndOptimisersThisTrainerDoesNotHaveAreRefusedWithTheNearestChoice() {
        for (String adamw : java.util.List.of("adamw_torch", "adamw", "adamw_hf", "adamw_torch_fused")) {
            assertThat(RecipeParser.parse("lora_config: {r: 4}\ntraining_config: {optim: " + adamw + "}", "r.yaml")
                            .recipe()
                            .trainingConfig()
                            .optim())
                    .isEqualTo(adamw);
        }
        RecipeParser.Result paged =
                RecipeParser.parse("lora_config: {r: 4}\ntraining_config: {optim: paged_adamw_8bit}", "r.yaml");
        assertThat(paged.recipe().trainingConfig().optim()).isEqualTo("adamw_torch");
        assertThat(paged.warnings())
                .anySatisfy(w ->
                        assertThat(w).startsWith("training_config.optim: paged_adamw_8bit is read as adamw_torch"));
        assertThatThrownBy(
                        () -> RecipeParser.parse("lora_config: {r: 4}\ntraining_config: {optim: lion_32bit}", "r.yaml"))
                .hasMessageContaining("Lion is not implemented")
                .hasMessageContaining("adamw_torch");
        assertThatThrownBy(
                        () -> RecipeParser.parse("lora_config: {r: 4}\ntraining_config: {optim: adafactor}", "r.yaml"))
                .hasMessageContaining("Adafactor is not implemented")
                .hasMessageContaining("adamw_torch");
        assertThatThrownBy(() -> RecipeParser.parse("lora_config: {r: 4}\ntraining_config: {optim: sgd}", "r.yaml"))
                .hasMessageContaining("not an optimiser this trainer has");
    }

    @Test
    void jolaEditsAttentionOnlyAndOtherModulesAreRefused() {
        assertThatThrownBy(() -> RecipeParser.parse("jola_config: {}\nmodel_config: {applied_module: mlp}", "r.yaml"))
                .hasMessageContaining("model_config.applied_module: expected one of attention, found 'mlp'");
    }

    @Test
    void everyKeyAcceptedWithoutEffectIsWarnedWithItsReason() {
        RecipeParser.acceptedWithoutEffect().forEach((key, reason) -> {
            if (key.chars().filter(c -> c == '.').count() != 1) {
                return; // a nested key: refused where its value asks for what is not done
            }
            String section = key.substring(0, key.indexOf('.'));
            String name = key.substring(key.indexOf('.') + 1);
            String value = name.equals("applied_module") ? "attention" : "x";
            RecipeParser.Result result = RecipeParser.parse(
                    "lora_config: {r: 4}\n" + section + ":\n  " + name + ": " + value + "\n", "r.yaml");
            assertThat(result.warnings()).contains(key + ": accepted but has no effect here: " + reason);
        });
    }

    /** Hugging Face's IntervalStrategy values only; YAML 1.1's unquoted no (a boolean false) is the strategy no. */
    @Test
    void saveAndEvalStrategiesAreNoStepsOrEpoch() {
        Recipe recipe = RecipeParser.parse("""
                training_config: {finetuning_type: full, save_strategy: no, eval_strategy: Epoch}
                """, "r.yaml").recipe();
        assertThat(recipe.trainingConfig().saveStrategy()).isEqualTo("no");
        assertThat(recipe.trainingConfig().evaluationStrategy()).isEqualTo("epoch");

        assertThatThrownBy(() -> RecipeParser.parse("""
                        training_config: {finetuning_type: full, save_strategy: best, evaluation_strategy: sometimes}
                        """, "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining("training_config.save_strategy: expected one of no, steps, epoch, found 'best'")
                .hasMessageContaining(
                        "training_config.evaluation_strategy: expected one of no, steps, epoch, found 'sometimes'");
    }

    /** model_config.dtype (torch_dtype) names a dtype merged exports can be written in. */
    @Test
    void aDtypeIsOneMergedExportsAreWrittenIn() {
        assertThat(RecipeParser.parse("""
                        model_config: {torch_dtype: bfloat16}
                        training_config: {finetuning_type: full}
                        """, "r.yaml").recipe().modelConfig().dtype())
                .isEqualTo("bfloat16");
        assertThatThrownBy(() -> RecipeParser.parse("""
                        model_config: {torch_dtype: float64}
                        training_config: {finetuning_type: full}
                        """, "r.yaml"))
                .isInstanceOf(RecipeException.class)
                .hasMessageContaining(
                        "model_config.dtype: expected one of auto, float32, float16, bfloat16, found 'float64'");
    }
}
