package dev.streamtune.trainer.plan;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.streamtune.events.ConfinedPath;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.JolaConfig;
import dev.streamtune.events.recipe.LoraConfig;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.RecipeTemplate;
import dev.streamtune.events.recipe.SchedulerKwargs;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.jola.GateSchedule;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.train.LearningRateSchedule;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.PatternSyntaxException;

/**
 * Settles a recipe into a {@link TrainingPlan}, checking it against the model it names: the model exists under the
 * model root and its architecture is one the runtime has, LoRA's targets match modules of that model, the
 * tokenizer's vocabulary fits its embedding, and the schedule can be computed for a stream. Every problem is
 * reported at once with its key's path ({@link RecipeProblemsException}); settings that are understood but change
 * nothing come back as warnings.
 *
 * <p>The model and tokenizer are settled by {@link RecipeModels} (as eval-service settles them), from their
 * configurations only (config.json, a llama2.c header), never weights, so that a recipe for a large model is answered
 * at once.
 */
public final class TrainingPlans {

    /** Which lr_scheduler_kwargs each schedule reads. */
    private static final Map<LearningRateSchedule.Kind, Set<String>> KWARGS = Map.of(
            LearningRateSchedule.Kind.COSINE, Set.of("num_cycles"),
            LearningRateSchedule.Kind.COSINE_WITH_RESTARTS, Set.of("num_cycles"),
            LearningRateSchedule.Kind.COSINE_WITH_MIN_LR, Set.of("num_cycles", "min_lr", "min_lr_rate"),
            LearningRateSchedule.Kind.POLYNOMIAL, Set.of("lr_end", "power"),
            LearningRateSchedule.Kind.WARMUP_STABLE_DECAY,
                    Set.of(
                            "num_cycles",
                            "num_decay_steps",
                            "num_stable_steps",
                            "warmup_type",
                            "decay_type",
                            "min_lr_ratio"),
            LearningRateSchedule.Kind.INVERSE_SQRT, Set.of("timescale"));

    private final RecipeModels models;
    private final ConfinedPath exportRoot;
    private final Supplier<MemoryBudget> budget;
    private MemoryBudget settledBudget;

    /**
     * Plans whose models must fit {@link MemoryBudget#ofDevice()}, asked for when the first recipe is checked: the
     * device is not looked at (nor PyTorch's engine loaded) before a recipe needs it.
     */
    public TrainingPlans(Path modelRoot) {
        this(modelRoot, MemoryBudget::ofDevice);
    }

    public TrainingPlans(Path modelRoot, MemoryBudget budget) {
        this(modelRoot, () -> budget);
    }

    public TrainingPlans(Path modelRoot, Supplier<MemoryBudget> budget) {
        this(modelRoot, Path.of("checkpoints"), budget); // trainer.checkpoint-root's default
    }

    /** @param checkpointRoot where checkpoints and exports are written: a recipe's output_dir stays under it */
    public TrainingPlans(Path modelRoot, Path checkpointRoot, Supplier<MemoryBudget> budget) {
        this.models = new RecipeModels(modelRoot);
        this.exportRoot = new ConfinedPath(checkpointRoot, "checkpoint root");
        this.budget = budget;
    }

    private synchronized MemoryBudget budget() {
        if (settledBudget == null) {
            settledBudget = budget.get();
        }
        return settledBudget;
    }

    public Path modelRoot() {
        return models.modelRoot();
    }

    /** The plan for {@code recipe}; a {@link RecipeProblemsException} listing every problem when there is none. */
    public TrainingPlan of(Recipe recipe) {
        return new Check(recipe).plan();
    }

    private final class Check {
        private final Recipe recipe;
        private final ModelConfig modelConfig;
        private final TrainingConfig training;
        private final List<String> problems = new ArrayList<>();
        private final List<String> warnings = new ArrayList<>();

        Check(Recipe recipe) {
            this.recipe = recipe;
            this.modelConfig = RecipeModels.modelConfig(recipe);
            this.training = recipe.trainingConfig();
        }

        TrainingPlan plan() {
            Method method = Method.of(training.finetuningType());
            if (method == Method.LORA
                    && recipe.loraConfig() != null
                    && Boolean.TRUE.equals(recipe.loraConfig().useDora())) {
                method = Method.DORA; // as PEFT reads a LoraConfig with use_dora
            }
            TextTokenizer tokenizer = models.tokenizer(recipe, problems);
            ModelSource model = models.model(modelConfig, recipe.dataConfig(), tokenizer, problems);
            if (model != null && tokenizer != null && tokenizer.vocabSize() > model.vocabSize()) {
                problems.add(vocabularyBeyondEmbedding(tokenizer, model.vocabSize()));
            }
            quantization();
            if (model != null) {
                String tooLarge = budget().problem(
                                model,
                                method,
                                RecipeModels.quantization(modelConfig) != null,
                                modelConfig.pretrainedModelNameOrPath() == null
                                        ? "model_config"
                                        : "model_config.pretrained_model_name_or_path");
                if (tooLarge != null) {
                    problems.add(tooLarge);
                }
            }
            LoraSpec lora = null;
            if ((method == Method.LORA || method == Method.DORA) && model != null) {
                LoraConfig config = recipe.loraConfig();
                lora = loraSpec(config, model, targets(config, model), method == Method.DORA);
            }
            TrainingPlan.Jola jola = null;
            if (method == Method.JOLA) {
                if (model != null && !model.kind().llamaFamily()) {
                    problems.add("jola_config: JoLA edits the attention heads of Llama-family models (llama, qwen2,"
                            + " olmo2); this model is gpt2");
                }
                jola = jola(recipe.jolaConfig());
            }
            Long maxSteps =
                    training.maxSteps() == null ? null : training.maxSteps().longValue();
            TrainingPlan.Optimisation optimisation = optimisation(maxSteps, method);
            boolean continuous = Boolean.TRUE.equals(training.continuous());
            Double epochs = lengthFromEpochs() ? training.numTrainEpochs() : null;
            if (TrainingPlan.lengthFromData(epochs, optimisation, jola)) {
                warnings.add("training_config.num_train_epochs: the schedule needs the run's length, so the first pass"
                        + " reads the stream without training until it has been quiet for trainer.stream-end-after;"
                        + " the run is then ceil(epochs x batches / gradient_accumulation_steps) steps, trained from"
                        + " the first batch");
            }
            if (training.numTrainEpochs() != null && maxSteps != null) {
                warnings.add("training_config.num_train_epochs: max_steps is given and decides the run's length, as in"
                        + " Hugging Face's Trainer");
            }
            if (Boolean.TRUE.equals(training.gradientCheckpointing())
                    && model != null
                    && !model.kind().llamaFamily()) {
                warnings.add("training_config.gradient_checkpointing: activation checkpointing is implemented for"
                        + " Llama-family models; this gpt2 model keeps every layer's activations");
            }
            if (modelConfig.dtype() != null
                    && Set.of("bfloat16", "float16")
                            .contains(modelConfig.dtype().trim())) {
                warnings.add("model_config.dtype: merged exports are written in "
                        + modelConfig.dtype().trim()
                        + "; the run computes in the device's dtype (float32 here), not in this one");
            }
            if (Boolean.TRUE.equals(training.bf16())) {
                warnings.add("training_config.bf16: the compute type follows the device (bfloat16 on GPUs that"
                        + " support it, float32 elsewhere)");
            }
            CheckpointSchedule checkpoints = checkpoints(maxSteps, continuous, epochs);
            Path outputDir = outputDir();
            if (!problems.isEmpty()) {
                throw new RecipeProblemsException(problems);
            }
            return new TrainingPlan(
                    recipe,
                    method,
                    model,
                    modelConfig.pretrainedModelNameOrPath(),
                    lora,
                    jola,
                    optimisation,
                    orDefault(training.gradientAccumulationSteps(), RecipeDefaults.GRADIENT_ACCUMULATION_STEPS),
                    maxSteps,
                    checkpoints,
                    training.saveTotalLimit(),
                    RecipeModels.seed(recipe),
                    continuous,
                    epochs,
                    "fail".equalsIgnoreCase(orDefault(training.onBadBatch(), RecipeDefaults.ON_BAD_BATCH)),
                    training.earlyStoppingPatience(),
                    orDefault(training.earlyStoppingThreshold(), RecipeDefaults.EARLY_STOPPING_THRESHOLD),
                    outputDir,
                    List.copyOf(warnings));
        }

        /**
         * Why the vocabulary does not fit the embedding. When the ids past it are ChatML's tokens, added because the
         * template writes them (GPT-2's vocabulary has 50,257 tokens, a stock GPT-2 as many rows), the ways out are
         * named: TRL's setup_chat_format resizes the embedding for them, which this trainer does not do.
         */
        private static String vocabularyBeyondEmbedding(TextTokenizer tokenizer, int rows) {
            Map<Integer, String> added = new TreeMap<>();
            tokenizer.specialTokens().forEach((text, id) -> {
                if (id >= rows) {
                    added.put(id, text);
                }
            });
            boolean chatMl = added.size() == tokenizer.vocabSize() - rows
                    && Set.of(RecipeTemplate.IM_START, RecipeTemplate.IM_END).containsAll(added.values());
            if (!chatMl) {
                return "model_config.tokenizer: its vocabulary of " + tokenizer.vocabSize() + " tokens does not fit"
                        + " the model's embedding of " + rows + " rows (token ids would fall outside it)";
            }
            StringJoiner tokens = new StringJoiner(" and ");
            added.forEach((id, text) -> tokens.add(text + " (id " + id + ")"));
            return "data_config.format_type: the template writes ChatML's " + tokens + ", added to "
                    + tokenizer.name() + "'s vocabulary of " + rows + " tokens, but the model has an embedding of "
                    + rows + " rows, none for them: use a template that adds no tokens (format_type instruction"
                    + " (alpaca) or chat), or a model whose embedding already has rows for them (one saved after TRL's"
                    + " setup_chat_format or transformers' resize_token_embeddings); this trainer does not resize a"
                    + " model's embedding";
        }

        /**
         * Where the run's merged exports go: output_dir under the checkpoint root (a relative path resolves against
         * it; one that leads outside it through {@code ..}, an absolute path or a symbolic link is refused), or null
         * for beside the checkpoint.
         */
        private Path outputDir() {
            if (training.outputDir() == null || training.outputDir().isBlank()) {
                return null;
            }
            try {
                return exportRoot.resolve(training.outputDir().trim(), "training_config.output_dir");
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
                return null;
            }
        }

        /**
         * save_strategy and eval_strategy ({@link CheckpointSchedule}). Epoch strategies need passes over the run's
         * data, which only a run with num_train_epochs (no max_steps, not continuous) has; a run with no end of its
         * own must checkpoint on the way, or nothing of it would be kept, scored or committed until it is stopped.
         */
        private CheckpointSchedule checkpoints(Long maxSteps, boolean continuous, Double epochs) {
            CheckpointSchedule.Strategy save =
                    CheckpointSchedule.Strategy.of(orDefault(training.saveStrategy(), RecipeDefaults.SAVE_STRATEGY));
            CheckpointSchedule.Strategy evaluation = CheckpointSchedule.Strategy.of(
                    orDefault(training.evaluationStrategy(), RecipeDefaults.EVALUATION_STRATEGY));
            int saveSteps = orDefault(training.saveSteps(), RecipeDefaults.SAVE_STEPS);
            CheckpointSchedule schedule = new CheckpointSchedule(
                    save,
                    saveSteps,
                    evaluation,
                    orDefault(training.evalSteps(), saveSteps),
                    maxSteps); // a continuous run checkpoints at max_steps too, and trains on
            for (String key : List.of("save_strategy", "evaluation_strategy")) {
                CheckpointSchedule.Strategy strategy = key.equals("save_strategy") ? save : evaluation;
                if (strategy == CheckpointSchedule.Strategy.EPOCH && epochs == null) {
                    problems.add("training_config." + key + ": epoch checkpoints at the end of each pass over the"
                            + " run's data, and this run makes no passes: "
                            + (continuous
                                    ? "it is continuous"
                                    : maxSteps != null ? "max_steps decides its length" : "it has no num_train_epochs")
                            + "; use steps with " + (key.equals("save_strategy") ? "save_steps" : "eval_steps")
                            + ", or num_train_epochs without max_steps");
                }
            }
            boolean endless = continuous || (maxSteps == null && epochs == null);
            if (endless && !schedule.periodic()) {
                problems.add("training_config.save_strategy: no (with evaluation_strategy no) checkpoints only at the"
                        + " run's end, and this run has none ("
                        + (continuous ? "continuous" : "a stream without max_steps or num_train_epochs")
                        + "): nothing would be scored, and its batches not committed, until it is stopped; use"
                        + " save_strategy steps with save_steps");
            }
            if (training.saveSteps() != null && save != CheckpointSchedule.Strategy.STEPS) {
                warnings.add("training_config.save_steps: has no effect with save_strategy " + save.wireName());
            }
            if (training.evalSteps() != null && evaluation != CheckpointSchedule.Strategy.STEPS) {
                warnings.add(
                        "training_config.eval_steps: has no effect with evaluation_strategy " + evaluation.wireName());
            }
            return schedule;
        }

        /**
         * A 4-bit base (QLoRA): the compute dtype the recipe names against what this device computes in (its 4-bit
         * weights are dequantised to the run's compute dtype).
         */
        private void quantization() {
            FourBitConfig fourBit = RecipeModels.quantization(modelConfig);
            if (fourBit == null || fourBit.computeDtype() == null) {
                return;
            }
            String key = "model_config.quantization_config.bnb_4bit_compute_dtype: ";
            Device device = Compute.device();
            DataType computes = Compute.precision(device).compute();
            if (fourBit.computeDtype().equals("float16")) {
                warnings.add(
                        key + "float16 is not a compute type here (there is no loss scaling); the 4-bit weights are"
                                + " dequantised to " + name(computes) + " on this " + device.getDeviceType());
            } else if (fourBit.computeDtype().equals("bfloat16") && computes != DataType.BFLOAT16) {
                warnings.add(key + "bfloat16 needs a GPU that computes in it; on this " + device.getDeviceType()
                        + " the 4-bit weights are dequantised to " + name(computes));
            }
        }

        private static String name(DataType dtype) {
            return dtype.toString().toLowerCase(Locale.ROOT);
        }

        private TargetModules targets(LoraConfig config, ModelSource model) {
            TargetModules given = config == null ? null : config.targetModules();
            List<String> peftDefault = model.kind().llamaFamily()
                    ? RecipeDefaults.TARGET_MODULES_LLAMA
                    : RecipeDefaults.TARGET_MODULES_GPT2;
            return given == null ? TargetModules.of(peftDefault) : given;
        }

        private LoraSpec loraSpec(LoraConfig config, ModelSource model, TargetModules rules, boolean dora) {
            List<String> modules = model.linearModules();
            boolean matchesNone;
            try {
                matchesNone = modules.stream().noneMatch(rules::matches);
            } catch (PatternSyntaxException e) {
                problems.add("lora_config.target_modules: not a valid regular expression: " + e.getDescription());
                return null;
            }
            if (matchesNone) {
                Object targets = rules.names() != null ? rules.names() : rules.regex();
                Set<String> shortNames = new TreeSet<>();
                modules.forEach(m -> shortNames.add(m.substring(m.lastIndexOf('.') + 1)));
                problems.add("lora_config.target_modules: " + targets + " matches no module of the model; its linear"
                        + " modules are " + shortNames + " in every layer (e.g. " + modules.get(0) + ")");
                return null;
            }
            if (config != null
                    && config.modulesToSave() != null
                    && !config.modulesToSave().isEmpty()) {
                problems.add(
                        "lora_config.modules_to_save: training whole modules beside the adapters is not supported");
            }
            if (config != null && config.bias() != null && !config.bias().trim().equalsIgnoreCase("none")) {
                problems.add(
                        "lora_config.bias: '" + config.bias() + "': training the layers' biases beside the adapters"
                                + " is not supported; none trains the adapters only");
            }
            int r = config == null || config.r() == null ? RecipeDefaults.LORA_R : config.r();
            double alpha =
                    config == null || config.loraAlpha() == null ? RecipeDefaults.LORA_ALPHA : config.loraAlpha();
            double dropout =
                    config == null || config.loraDropout() == null ? RecipeDefaults.LORA_DROPOUT : config.loraDropout();
            boolean rsLora = config != null && Boolean.TRUE.equals(config.useRslora());
            return new LoraSpec(
                    r, alpha, dropout, rules, rsLora, dora, !model.kind().llamaFamily());
        }

        private TrainingPlan.Jola jola(JolaConfig config) {
            String schedule = config == null || config.gateScheduler() == null
                    ? RecipeDefaults.GATE_SCHEDULER
                    : config.gateScheduler();
            double lambda =
                    config == null || config.gateLambda() == null ? RecipeDefaults.GATE_LAMBDA : config.gateLambda();
            String penaltyForm = config == null || config.penalty() == null ? RecipeDefaults.PENALTY : config.penalty();
            JolaGates.Penalty penalty =
                    "blog".equalsIgnoreCase(penaltyForm) ? JolaGates.Penalty.BLOG : JolaGates.Penalty.CODED;
            GateSchedule.Kind kind = GateSchedule.parse(schedule);
            if (kind == GateSchedule.Kind.LINEAR && training.maxSteps() == null && !lengthFromEpochs()) {
                problems.add("jola_config.gate_scheduler: linear grows with the step over the run's length, which the"
                        + " recipe does not give (max_steps, or num_train_epochs; a stream has no known length)");
            }
            return new TrainingPlan.Jola(kind, lambda, penalty, schedule);
        }

        /**
         * Whether the run's length comes from its data: num_train_epochs without max_steps, not continuous. The
         * length is known once the first pass over the stream closes (TrainingPlan.lengthFromData).
         */
        private boolean lengthFromEpochs() {
            return training.maxSteps() == null
                    && !Boolean.TRUE.equals(training.continuous())
                    && training.numTrainEpochs() != null;
        }

        private TrainingPlan.Optimisation optimisation(Long maxSteps, Method method) {
            double learningRate = orDefault(training.learningRate(), RecipeDefaults.LEARNING_RATE);
            optimizer(orDefault(training.optim(), RecipeDefaults.OPTIM));
            LearningRateSchedule.Kind kind = LearningRateSchedule.parse(training.lrSchedulerType());
            LearningRateSchedule.Options options = scheduleOptions(training.lrSchedulerKwargs());
            String problem =
                    LearningRateSchedule.problem(kind, learningRate, maxSteps == null ? 1L : maxSteps, options);
            if (problem != null) {
                problems.add("training_config." + problem);
            }
            kwargsWithoutEffect(kind);
            long warmup = orDefault(training.warmupSteps(), RecipeDefaults.WARMUP_STEPS);
            Double warmupRatio = null;
            if (training.warmupRatio() != null && training.warmupRatio() > 0 && training.warmupSteps() == null) {
                if (maxSteps != null) {
                    warmup = (long) Math.ceil(training.warmupRatio() * maxSteps);
                } else if (lengthFromEpochs()) {
                    warmupRatio = training.warmupRatio(); // of the length the data will give
                } else {
                    problems.add("training_config.warmup_ratio: a fraction of the run's steps needs its length"
                            + " (max_steps, or num_train_epochs; a stream has no known length); give warmup_steps"
                            + " instead");
                }
            }
            if (kind == LearningRateSchedule.Kind.CONSTANT && (warmup > 0 || warmupRatio != null)) {
                warnings.add("training_config." + (training.warmupSteps() != null ? "warmup_steps" : "warmup_ratio")
                        + ": lr_scheduler_type constant ignores warmup, as transformers' does; constant_with_warmup"
                        + " warms up");
            }
            if (maxSteps == null && LearningRateSchedule.needsLength(kind, options) && !lengthFromEpochs()) {
                if (training.lrSchedulerType() != null) {
                    problems.add("training_config.lr_scheduler_type: " + training.lrSchedulerType() + " decays over"
                            + " the run's length, which needs max_steps (a stream has no known length); use constant,"
                            + " constant_with_warmup or inverse_sqrt, warmup_stable_decay with"
                            + " lr_scheduler_kwargs.num_stable_steps, or give max_steps");
                } else {
                    warnings.add("training_config.max_steps: not given, so the learning rate stays constant after"
                            + " warmup (linear decay needs the run's length)");
                }
                kind = LearningRateSchedule.Kind.CONSTANT_WITH_WARMUP;
            }
            TrainingPlan.Optimisation optimisation = new TrainingPlan.Optimisation(
                    learningRate,
                    orDefault(training.adamBeta1(), RecipeDefaults.ADAM_BETA1),
                    orDefault(training.adamBeta2(), RecipeDefaults.ADAM_BETA2),
                    orDefault(training.adamEpsilon(), RecipeDefaults.ADAM_EPSILON),
                    orDefault(training.weightDecay(), RecipeDefaults.WEIGHT_DECAY),
                    orDefault(training.maxGradNorm(), RecipeDefaults.MAX_GRAD_NORM),
                    kind,
                    options,
                    warmup,
                    warmupRatio);
            continuousAfterSchedule(optimisation, maxSteps);
            return optimisation;
        }

        /**
         * Every optimiser name the parser lets through is PyTorch's AdamW, which is what the trainer runs; the two
         * that name something more than the update are told what they get.
         */
        private void optimizer(String optim) {
            switch (optim.trim().toLowerCase(Locale.ROOT)) {
                case "adamw_torch_fused" ->
                    warnings.add("training_config.optim: adamw_torch_fused names PyTorch's fused CUDA kernel; the same"
                            + " AdamW update runs here, one tensor at a time");
                case "adamw_hf" ->
                    warnings.add("training_config.optim: adamw_hf, transformers' deprecated AdamW, runs as PyTorch's"
                            + " AdamW: the same update, with bias correction");
                default -> {
                    // adamw_torch and adamw: what the trainer runs
                }
            }
        }

        private static LearningRateSchedule.Options scheduleOptions(SchedulerKwargs kwargs) {
            if (kwargs == null) {
                return LearningRateSchedule.Options.NONE;
            }
            return new LearningRateSchedule.Options(
                    kwargs.numCycles(),
                    kwargs.minLr(),
                    kwargs.minLrRate(),
                    kwargs.lrEnd(),
                    kwargs.power(),
                    longOrNull(kwargs.numDecaySteps()),
                    longOrNull(kwargs.numStableSteps()),
                    kwargs.warmupType(),
                    kwargs.decayType(),
                    kwargs.minLrRatio(),
                    longOrNull(kwargs.timescale()));
        }

        private static Long longOrNull(Integer value) {
            return value == null ? null : value.longValue();
        }

        /** A scheduler argument the chosen schedule does not read is said, not silently dropped. */
        private void kwargsWithoutEffect(LearningRateSchedule.Kind kind) {
            SchedulerKwargs kwargs = training.lrSchedulerKwargs();
            if (kwargs == null) {
                return;
            }
            Set<String> read = KWARGS.getOrDefault(kind, Set.of());
            for (RecordComponent component : SchedulerKwargs.class.getRecordComponents()) {
                String key = new PropertyNamingStrategies.SnakeCaseStrategy().translate(component.getName());
                try {
                    if (component.getAccessor().invoke(kwargs) != null && !read.contains(key)) {
                        warnings.add("training_config.lr_scheduler_kwargs." + key + ": has no effect on "
                                + kind.wireName()
                                + (read.isEmpty()
                                        ? ", which takes no arguments"
                                        : ", which reads " + new TreeSet<>(read)));
                    }
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }

        /**
         * A continuous run trains on past max_steps at the rate its schedule ended at; where that is 0 it reads its
         * stream without learning, which the user should hear before, not find out from the losses.
         */
        private void continuousAfterSchedule(TrainingPlan.Optimisation optimisation, Long maxSteps) {
            if (!Boolean.TRUE.equals(training.continuous())
                    || maxSteps == null
                    || !optimisation.needsLength()
                    || !problems.isEmpty()) {
                return;
            }
            double end = optimisation.scheduleOver(maxSteps).endRate();
            if (end == 0) {
                warnings.add("training_config.continuous: after max_steps the run trains on at the rate its "
                        + optimisation.schedule().wireName() + " schedule ends at, 0, so it no longer learns;"
                        + " cosine_with_min_lr, polynomial (lr_end) or constant_with_warmup keep a rate");
            }
        }
    }

    private static int orDefault(Integer value, int fallback) {
        return value == null ? fallback : value;
    }

    private static double orDefault(Double value, double fallback) {
        return value == null ? fallback : value;
    }

    private static String orDefault(String value, String fallback) {
        return value == null ? fallback : value;
    }
}
