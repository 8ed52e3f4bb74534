package dev.streamtune.trainer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.StoriesRecipes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recipes checked against the real models they name: every refusal names its key. */
class TrainingPlansTest {

    private Path root;
    private TrainingPlans plans;

    @BeforeEach
    void models() {
        root = SharedData.models();
        plans = new TrainingPlans(root);
    }

    private static Recipe recipe(String yaml) {
        return RecipeParser.parse(yaml, "test").recipe();
    }

    private List<String> problems(String yaml) {
        try {
            plans.of(recipe(yaml));
        } catch (RecipeProblemsException e) {
            return e.problems();
        }
        throw new AssertionError("the recipe was accepted:\n" + yaml);
    }

    @Test
    void aLoraRecipeOverStories260kBecomesAPlan() {
        TrainingPlan plan = plans.of(recipe(StoriesRecipes.lora("ok", 6, 3)));
        assertThat(plan.method()).isEqualTo(Method.LORA);
        assertThat(plan.model().kind()).isEqualTo(ModelSource.Kind.LLAMA2C);
        assertThat(plan.model().vocabSize()).isEqualTo(512);
        assertThat(plan.lora().r()).isEqualTo(4);
        assertThat(plan.lora().scale()).isEqualTo(2.0);
        assertThat(plan.gradientAccumulation()).isEqualTo(2);
        assertThat(plan.maxSteps()).isEqualTo(6);
        assertThat(plan.checkpoints().saveSteps()).isEqualTo(3);
        assertThat(plan.seed()).isEqualTo(7);
        assertThat(plan.optimisation().scheduleOver(6L).at(1)).isEqualTo(5e-3);
    }

    /**
     * Schedules as transformers defines them: constant ignores warmup (said), the kwargs a schedule does not read are
     * said, the ones it needs are asked for by key, and a continuous run whose schedule ends at 0 is warned that it
     * stops learning after max_steps.
     */
    @Test
    void schedulesAreSettledAsTransformersDefinesThem() {
        String recipe = StoriesRecipes.lora("s", 6, 3);
        TrainingPlan constant =
                plans.of(recipe(recipe.replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")));
        assertThat(constant.optimisation().scheduleOver(6L).at(0)).isEqualTo(5e-3);
        assertThat(constant.warnings())
                .anySatisfy(w -> assertThat(w)
                        .startsWith("training_config.warmup_steps:")
                        .contains("constant ignores warmup"));

        TrainingPlan floor = plans.of(recipe(recipe.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type: cosine_with_min_lr\n  lr_scheduler_kwargs: {min_lr_rate: 0.1, lr_end: 0.01}")));
        assertThat(floor.optimisation().scheduleOver(6L).endRate()).isCloseTo(5e-4, Offset.offset(1e-12));
        assertThat(floor.warnings())
                .anySatisfy(
                        w -> assertThat(w)
                                .isEqualTo(
                                        "training_config.lr_scheduler_kwargs.lr_end:"
                                                + " has no effect on cosine_with_min_lr, which reads [min_lr, min_lr_rate, num_cycles]"));

        assertThat(problems(recipe.replace("lr_scheduler_type: cosine", "lr_scheduler_type: warmup_stable_decay")))
                .anySatisfy(p -> assertThat(p).startsWith("training_config.lr_scheduler_kwargs.num_decay_steps:"));
        assertThat(problems(recipe.replace(
                        "lr_scheduler_type: cosine",
                        "lr_scheduler_type: polynomial\n" + "  lr_scheduler_kwargs: {lr_end: 0.1}")))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("training_config.lr_scheduler_kwargs.lr_end")
                        .contains("smaller than the learning rate"));

        // a stream: decays need a length, warmup_stable_decay with a stable phase does not
        String stream = recipe.replace("  max_steps: 6\n", "");
        assertThat(problems(stream))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("training_config.lr_scheduler_type:")
                        .contains("needs max_steps"));
        TrainingPlan wsd = plans.of(recipe(stream.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type:"
                        + " warmup_stable_decay\n  lr_scheduler_kwargs: {num_stable_steps: 4, num_decay_steps: 2}")));
        assertThat(wsd.optimisation().scheduleOver(null).at(100)).isZero();
        assertThat(wsd.optimisation().scheduleOver(null).at(3)).isEqualTo(5e-3);

        String continuous = recipe.replace("  seed: 7\n", "  seed: 7\n  continuous: true\n");
        assertThat(plans.of(recipe(continuous)).warnings())
                .anySatisfy(w -> assertThat(w)
                        .startsWith("training_config.continuous:")
                        .contains("ends at, 0, so it no longer learns"));
        assertThat(plans.of(recipe(continuous.replace(
                                "lr_scheduler_type: cosine",
                                "lr_scheduler_type:" + " cosine_with_min_lr\n  lr_scheduler_kwargs: {min_lr: 1e-4}")))
                        .warnings())
                .noneSatisfy(w -> assertThat(w).startsWith("training_config.continuous:"));
    }

    /** Every lr_scheduler_kwargs key reaches the schedule its recipe names, as given. */
    @Test
    void everySchedulerArgumentReachesTheSchedule() {
        String recipe = StoriesRecipes.lora("kwargs", 60, 3);
        TrainingPlan wsd = plans.of(recipe(recipe.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type:"
                        + " warmup_stable_decay\n  lr_scheduler_kwargs: {num_decay_steps: 20, num_stable_steps: 30,"
                        + " warmup_type: cosine, decay_type: 1-sqrt, min_lr_ratio: 0.1, num_cycles: 0.25}")));
        assertThat(wsd.optimisation().scheduleOptions())
                .isEqualTo(new LearningRateSchedule.Options(
                        0.25, null, null, null, null, 20L, 30L, "cosine", "1-sqrt", 0.1, null));
        assertThat(wsd.warnings()).noneSatisfy(w -> assertThat(w).contains("lr_scheduler_kwargs"));
        TrainingPlan polynomial = plans.of(recipe(recipe.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type:" + " polynomial\n  lr_scheduler_kwargs: {lr_end: 1e-4, power: 2.0}")));
        assertThat(polynomial.optimisation().scheduleOptions())
                .isEqualTo(new LearningRateSchedule.Options(
                        null, null, null, 1e-4, 2.0, null, null, null, null, null, null));
        TrainingPlan inverse = plans.of(recipe(recipe.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type:" + " inverse_sqrt\n  lr_scheduler_kwargs: {timescale: 7}")));
        assertThat(inverse.optimisation().scheduleOptions().timescale()).isEqualTo(7L);
        assertThat(inverse.optimisation().scheduleOver(60L).at(10))
                .isCloseTo(5e-3 / Math.sqrt((10.0 + 7 - 1) / 7), Offset.offset(1e-15));
        TrainingPlan floor = plans.of(recipe(recipe.replace(
                "lr_scheduler_type: cosine",
                "lr_scheduler_type:" + " cosine_with_min_lr\n  lr_scheduler_kwargs: {min_lr: 1e-4}")));
        assertThat(floor.optimisation().scheduleOptions().minLr()).isEqualTo(1e-4);
    }

    @Test
    void anUnknownArchitectureIsNamed() {
        assertThat(problems(StoriesRecipes.lora("a", 6, 3)
                        .replace("model_config:\n", "model_config:\n  architecture: mamba\n")))
                .singleElement()
                .asString()
                .startsWith("model_config.architecture:")
                .contains("mamba");
    }

    @Test
    void aModelThatIsNotUnderTheModelRootIsNamed() {
        assertThat(problems(StoriesRecipes.lora("a", 6, 3).replace("stories260K/stories260K.bin", "nowhere/model.bin")))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.pretrained_model_name_or_path:")
                        .contains("nowhere/model.bin", "does not exist under the model root"));
        assertThat(problems(StoriesRecipes.lora("a", 6, 3).replace("stories260K/stories260K.bin", "../../etc/passwd")))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("model_config.pretrained_model_name_or_path:")
                        .contains("outside the model root"));
    }

    @Test
    void aLoraTargetThatMatchesNoModuleIsNamedWithTheModulesThereAre() {
        assertThat(problems(StoriesRecipes.lora("a", 6, 3).replace("[q_proj, v_proj]", "[c_attn]")))
                .singleElement()
                .asString()
                .startsWith("lora_config.target_modules:")
                .contains("[c_attn] matches no module", "q_proj", "down_proj");
    }

    @Test
    void aNegativeLearningRateIsRefusedByTheParserWithItsKey() {
        assertThatThrownBy(() -> recipe(StoriesRecipes.lora("a", 6, 3).replace("5e-3", "-5e-3")))
                .isInstanceOf(RecipeException.class)
                .satisfies(e -> assertThat(((RecipeException) e).problems())
                        .singleElement()
                        .asString()
                        .startsWith("training_config.learning_rate: must be positive"));
    }

    @Test
    void aTokenizerWhoseVocabularyDoesNotFitTheEmbeddingIsNamed() {
        assertThat(problems(StoriesRecipes.lora("a", 6, 3).replace("tokenizer: stories260K", "tokenizer: r50k_base")))
                .singleElement()
                .asString()
                .startsWith("model_config.tokenizer:")
                .contains("50259 tokens does not fit", "512 rows");
    }

    /**
     * A stock GPT-2 (50,257 embedding rows) with GPT-2's vocabulary: a template that adds no tokens fits; ChatML's two
     * added tokens do not, and the refusal names the ways out.
     */
    @Test
    void aStockGpt2FitsGpt2sVocabularyAndChatMlsAddedTokensAreRefusedByName() {
        String gpt2 = """
                model_config:
                  pretrained_model_name_or_path: tiny-gpt2
                  tokenizer: gpt2
                data_config:
                  format_type: alpaca
                training_config:
                  max_steps: 2
                lora_config:
                  target_modules: [c_attn]
                """;
        TrainingPlan plan = plans.of(recipe(gpt2));
        assertThat(plan.model().vocabSize()).isEqualTo(50257);

        assertThat(problems(gpt2.replace("format_type: alpaca", "format_type: chatml")))
                .singleElement()
                .asString()
                .startsWith("data_config.format_type:")
                .contains("<|im_end|>", "<|im_start|>", "50257", "50258", "embedding of 50257 rows")
                .contains("a template that adds no tokens", "instruction");
    }

    @Test
    void aDecayingScheduleNeedsTheRunsLength() {
        assertThat(problems(StoriesRecipes.lora("a", 6, 3).replace("  max_steps: 6\n", "")))
                .singleElement()
                .asString()
                .startsWith("training_config.lr_scheduler_type:")
                .contains("max_steps");
    }

    /**
     * Epochs give a length once the data is known: a decaying schedule, warmup_ratio and JoLA's linear gates are
     * then accepted, and the run learns its length first (said in a warning); a constant schedule does not wait.
     */
    @Test
    void epochsGiveADecayingScheduleItsLengthFromTheData() {
        String epochs = StoriesRecipes.lora("a", 6, 3)
                .replace("  max_steps: 6\n", "  num_train_epochs: 3\n")
                .replace("  warmup_steps: 1\n", "  warmup_ratio: 0.1\n");
        TrainingPlan plan = plans.of(RecipeParser.parse(epochs, "test").recipe());
        assertThat(plan.lengthFromData()).isTrue();
        assertThat(plan.warnings())
                .anySatisfy(w -> assertThat(w)
                        .startsWith("training_config.num_train_epochs:")
                        .contains("reads the stream without training"));
        // 5 batches, 2 per step: 15 micro-batches, 8 steps (the last takes one); warmup ceil(0.1 x 8) = 1 step
        assertThat(plan.batchBudget(5)).isEqualTo(15);
        assertThat(plan.stepsFor(5)).isEqualTo(8);
        LearningRateSchedule schedule = plan.optimisation().scheduleOver(plan.stepsFor(5));
        assertThat(schedule.warmupSteps()).isEqualTo(1);
        assertThat(schedule.at(8)).isCloseTo(0, Offset.offset(1e-12));

        TrainingPlan constant = plans.of(RecipeParser.parse(
                        epochs.replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")
                                .replace("  warmup_ratio: 0.1\n", ""),
                        "test")
                .recipe());
        assertThat(constant.lengthFromData()).isFalse();
        TrainingPlan jola = plans.of(RecipeParser.parse(
                        epochs.replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")
                                .replace("  warmup_ratio: 0.1\n", "")
                                .replaceAll("(?s)lora_config:.*", "jola_config:\n  gate_scheduler: linear\n"),
                        "test")
                .recipe());
        assertThat(jola.lengthFromData())
                .as("JoLA's linear gate schedule spans the run")
                .isTrue();
    }

    @Test
    void jolaNeedsALlamaFamilyModel() {
        String gpt2 = """
                model_config:
                  pretrained_model_name_or_path: tiny-gpt2
                  tokenizer: tiny-gpt2
                training_config:
                  max_steps: 4
                jola_config:
                  gate_scheduler: expon
                """;
        assertThat(problems(gpt2))
                .anySatisfy(p -> assertThat(p).startsWith("jola_config:").contains("gpt2"));
    }

    @Test
    void aQloraRecipeIsALoraPlanOnAFourBitBase() {
        TrainingPlan plan = plans.of(
                recipe(
                        StoriesRecipes.lora("q", 6, 3)
                                .replace(
                                        "model_config:\n",
                                        "model_config:\n  quantization_config: {load_in_4bit: true, bnb_4bit_compute_dtype: bfloat16}\n")));
        assertThat(plan.method()).isEqualTo(Method.LORA);
        assertThat(plan.quantization().type()).isEqualTo(FourBitType.NF4);
        assertThat(plan.quantization().doubleQuant()).isTrue();
        assertThat(plan.warnings())
                .singleElement()
                .asString()
                .startsWith("model_config.quantization_config.bnb_4bit_compute_dtype: bfloat16 needs a GPU")
                .contains("float32");
        assertThat(plans.of(recipe(StoriesRecipes.lora("d", 6, 3))).quantization())
                .isNull();
        assertThat(plans.of(recipe("""
                model_config:
                  pretrained_model_name_or_path: tiny-gpt2
                  tokenizer: tiny-gpt2
                  load_in_4bit: true
                training_config:
                  max_steps: 2
                lora_config:
                  target_modules: [c_attn]
                """)).quantization())
                .as("GPT-2's Conv1D layers can be 4-bit too")
                .isNotNull();
    }

    @Test
    void aModelFromScratchTakesItsVocabularyFromTheTokenizer() {
        TrainingPlan plan = plans.of(recipe("""
                model_config:
                  architecture: llama
                  tokenizer: stories260K
                  hidden_size: 32
                  num_hidden_layers: 2
                  num_attention_heads: 4
                data_config:
                  max_seq_length: 64
                training_config:
                  finetuning_type: full
                  max_steps: 3
                """));
        assertThat(plan.method()).isEqualTo(Method.FULL);
        assertThat(plan.model().kind()).isEqualTo(ModelSource.Kind.LLAMA_FROM_SCRATCH);
        assertThat(plan.model().vocabSize()).isEqualTo(512);
        assertThat(plan.model().maxPositions()).isEqualTo(64);
        assertThat(problems("""
                model_config:
                  architecture: llama
                  tokenizer: stories260K
                training_config:
                  finetuning_type: full
                """))
                .contains("model_config.hidden_size: required to build a model from scratch (with"
                        + " model_config.architecture)");
    }

    /** A model too large for the trainer's memory is refused before anything is allocated, with the figures. */
    @Test
    void aModelOverTheMemoryBudgetIsRefusedWithItsFigures() {
        String huge = """
                model_config:
                  architecture: llama
                  tokenizer: stories260K
                  hidden_size: 16384
                  num_hidden_layers: 128
                  num_attention_heads: 128
                data_config:
                  max_seq_length: 64
                training_config:
                  finetuning_type: full
                  max_steps: 3
                """;
        assertThat(problems(huge))
                .anySatisfy(problem -> assertThat(problem)
                        .startsWith("model_config: the model's ")
                        .contains("parameters need about", "to train with full", "trainer.memory-budget"));

        // stories260K takes about 1 MiB in float32, 4 more with full fine-tuning's gradients and AdamW's moments.
        TrainingPlans small = new TrainingPlans(root, new MemoryBudget(2 * 1024 * 1024));
        small.of(recipe(StoriesRecipes.lora("fits", 6, 3)));
        assertThatThrownBy(() -> small.of(recipe("""
                        model_config:
                          pretrained_model_name_or_path: stories260K/stories260K.bin
                          tokenizer: stories260K
                        data_config:
                          max_seq_length: 64
                        training_config:
                          finetuning_type: full
                          max_steps: 3
                        """)))
                .isInstanceOf(RecipeProblemsException.class)
                .hasMessageContaining("model_config.pretrained_model_name_or_path: the model's")
                .hasMessageContaining("over the trainer's memory budget of 2.0 MiB");
    }

    /**
     * A recipe reaches the trainer as JSON on the recipes topic, where nothing guarantees the parser settled it:
     * use_dora on a LoRA section is DoRA, as PEFT reads it, and biases the adapters do not train are refused.
     */
    @Test
    void theLoraSectionsOwnSwitchesAreReadAsPeftReadsThem() throws Exception {
        Recipe parsed = recipe(StoriesRecipes.lora("dora", 6, 3));
        ObjectNode json = EventJson.mapper().valueToTree(parsed);
        ((ObjectNode) json.get("lora_config")).put("use_dora", true);
        assertThat(plans.of(EventJson.mapper().treeToValue(json, Recipe.class)).method())
                .isEqualTo(Method.DORA);

        ((ObjectNode) json.get("lora_config")).put("bias", "all");
        assertThatThrownBy(() -> plans.of(EventJson.mapper().treeToValue(json, Recipe.class)))
                .isInstanceOf(RecipeProblemsException.class)
                .hasMessageContaining("lora_config.bias: 'all'");
    }

    @Test
    void theAdamwNamesThatAskForMoreThanTheUpdateAreToldWhatTheyGet() {
        assertThat(plans.of(recipe(StoriesRecipes.lora("fused", 6, 3)
                                .replace("training_config:\n", "training_config:\n  optim: adamw_torch_fused\n")))
                        .warnings())
                .anySatisfy(w -> assertThat(w).startsWith("training_config.optim: adamw_torch_fused"));
        assertThat(plans.of(recipe(StoriesRecipes.lora("plain", 6, 3)
                                .replace("training_config:\n", "training_config:\n  optim: adamw_torch\n")))
                        .warnings())
                .noneSatisfy(w -> assertThat(w).startsWith("training_config.optim"));
    }

    /**
     * save_strategy / eval_strategy: epoch needs passes over the data (num_train_epochs without max_steps), and a run
     * with no end of its own must checkpoint on the way; each refusal names its key and says why.
     */
    @Test
    void checkpointStrategiesAreSettledOrRefusedWithWhy() {
        String recipe = StoriesRecipes.lora("s", 6, 3);
        TrainingPlan steps = plans.of(recipe(recipe.replace(
                "max_steps: 6", "max_steps: 6\n  eval_strategy: steps\n  eval_steps: 2\n  save_strategy: 'no'")));
        assertThat(steps.checkpoints())
                .isEqualTo(new CheckpointSchedule(
                        CheckpointSchedule.Strategy.NO, 3, CheckpointSchedule.Strategy.STEPS, 2, 6L));
        assertThat(steps.warnings()).contains("training_config.save_steps: has no effect with save_strategy no");
        assertThat(plans.of(recipe(recipe.replace("max_steps: 6", "max_steps: 6\n  eval_strategy: steps")))
                        .checkpoints()
                        .evalSteps())
                .as("eval_steps defaults to save_steps")
                .isEqualTo(3);
        assertThat(plans.of(recipe(recipe)).checkpoints())
                .isEqualTo(new CheckpointSchedule(
                        CheckpointSchedule.Strategy.STEPS, 3, CheckpointSchedule.Strategy.NO, 3, 6L));

        TrainingPlan epochs =
                plans.of(recipe(recipe.replace("max_steps: 6", "num_train_epochs: 2\n  save_strategy: epoch")
                        .replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")));
        assertThat(epochs.checkpoints().dueAtEpochEnd()).isTrue();

        assertThat(problems(recipe.replace("max_steps: 6", "max_steps: 6\n  save_strategy: epoch")))
                .containsExactly("training_config.save_strategy: epoch checkpoints at the end of each pass over the"
                        + " run's data, and this run makes no passes: max_steps decides its length; use steps with"
                        + " save_steps, or num_train_epochs without max_steps");
        assertThat(problems(
                        recipe.replace("max_steps: 6", "max_steps: 6\n  continuous: true\n  evaluation_strategy: epoch")
                                .replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")))
                .containsExactly("training_config.evaluation_strategy: epoch checkpoints at the end of each pass over"
                        + " the run's data, and this run makes no passes: it is continuous; use steps with eval_steps,"
                        + " or num_train_epochs without max_steps");
        assertThat(problems(recipe.replace("max_steps: 6", "max_steps: 6\n  continuous: true\n  save_strategy: 'no'")
                        .replace("lr_scheduler_type: cosine", "lr_scheduler_type: constant")))
                .singleElement()
                .asString()
                .startsWith("training_config.save_strategy: no (with evaluation_strategy no) checkpoints only at the"
                        + " run's end, and this run has none (continuous)");
    }

    /**
     * output_dir: where merged exports go, under the checkpoint root; a path leading out of it through {@code ..}, an
     * absolute path or a symbolic link is refused naming the key.
     */
    @Test
    void outputDirStaysUnderTheCheckpointRoot(@TempDir Path scratch) throws Exception {
        Path checkpoints = Files.createDirectories(scratch.resolve("checkpoints"));
        Path outside = Files.createDirectories(scratch.resolve("outside"));
        Files.createSymbolicLink(checkpoints.resolve("link-out"), outside);
        TrainingPlans confined = new TrainingPlans(root, checkpoints, MemoryBudget::ofDevice);
        String recipe = StoriesRecipes.lora("out", 6, 3);

        assertThat(confined.of(recipe(recipe.replace("max_steps: 6", "max_steps: 6\n  output_dir: ./outputs/lora")))
                        .outputDir())
                .isEqualTo(checkpoints.toAbsolutePath().resolve("outputs/lora"));
        assertThat(confined.of(recipe(recipe)).outputDir())
                .as("no output_dir: beside the checkpoint")
                .isNull();
        assertThat(confined.of(recipe(recipe.replace(
                                "max_steps: 6", "max_steps: 6\n  output_dir: " + checkpoints.resolve("abs"))))
                        .outputDir())
                .isEqualTo(checkpoints.toAbsolutePath().resolve("abs"));

        for (String escape : List.of("../outside", outside.toString(), "link-out/x", "a/../../outside")) {
            assertThatThrownBy(() -> confined.of(
                            recipe(recipe.replace("max_steps: 6", "max_steps: 6\n  output_dir: '" + escape + "'"))))
                    .as(escape)
                    .isInstanceOf(RecipeProblemsException.class)
                    .extracting(e -> ((RecipeProblemsException) e).problems())
                    .asList()
                    .containsExactly("training_config.output_dir: '" + escape + "' leads outside the checkpoint root "
                            + checkpoints.toAbsolutePath() + "; only paths under it are used");
        }
    }
}
