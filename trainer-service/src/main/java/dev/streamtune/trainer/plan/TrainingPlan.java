package dev.streamtune.trainer.plan;

import ai.djl.Device;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.io.TensorDtype;
import dev.streamtune.lm.jola.GateSchedule;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.quant.FourBitConfig;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.lm.train.LearningRateSchedule;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a run does, settled from its recipe and checked against its model ({@link TrainingPlans}): nothing in it
 * is left for the training loop to interpret.
 *
 * @param baseModelName        the model as the recipe names it (written into adapter_config.json)
 * @param gradientAccumulation micro-batches (TrainBatch records) per optimiser step
 * @param maxSteps             optimiser steps of the run, or null when it trains the stream as it comes
 * @param checkpoints          when a checkpoint is taken (save_strategy, eval_strategy and their step counts)
 * @param saveTotalLimit       checkpoints kept (the best one always), or null for all
 * @param outputDir            where merged exports are written (output_dir, confined under the checkpoint root), or
 *                             null for beside the checkpoint they fold
 * @param epochs               passes over the data (num_train_epochs, fractions allowed) when the run has no
 *                             max_steps and is not continuous: the first pass trains the stream as it arrives until it
 *                             goes quiet, later passes replay those batches from the topic; null trains the stream once
 */
public record TrainingPlan(
        Recipe recipe,
        Method method,
        ModelSource model,
        String baseModelName,
        LoraSpec lora,
        Jola jola,
        Optimisation optimisation,
        int gradientAccumulation,
        Long maxSteps,
        CheckpointSchedule checkpoints,
        Integer saveTotalLimit,
        long seed,
        boolean continuous,
        Double epochs,
        boolean failOnBadBatch,
        Integer earlyStoppingPatience,
        double earlyStoppingThreshold,
        Path outputDir,
        List<String> warnings) {

    /**
     * Whether the run's artefact is its best checkpoint (lowest validation loss) rather than its newest
     * ({@code training_config.load_best_model_at_end}).
     */
    public boolean loadBestModelAtEnd() {
        return recipe.trainingConfig() != null
                && Boolean.TRUE.equals(recipe.trainingConfig().loadBestModelAtEnd());
    }

    /**
     * The dtype merged exports are written in ({@code model_config.dtype}, alias {@code torch_dtype}): bfloat16 or
     * float16 as asked, rounded from the float32 merge; float32 for float32, auto and by default (the merge is
     * computed in float32, and a llama2.c or 4-bit base has no stored dtype to follow).
     */
    public TensorDtype exportDtype() {
        String dtype =
                recipe.modelConfig() == null ? null : recipe.modelConfig().dtype();
        if (dtype == null) {
            return TensorDtype.F32;
        }
        return switch (dtype.trim().toLowerCase(Locale.ROOT)) {
            case "bfloat16" -> TensorDtype.BF16;
            case "float16" -> TensorDtype.F16;
            default -> TensorDtype.F32;
        };
    }

    /** Whether the recipe asks for activation checkpointing ({@code training_config.gradient_checkpointing}). */
    public boolean gradientCheckpointing() {
        return recipe.trainingConfig() != null
                && Boolean.TRUE.equals(recipe.trainingConfig().gradientCheckpointing());
    }

    /**
     * Whether every sequence weighs the same in an optimiser step's loss ({@code training_config.loss_normalization:
     * sequence}: the mean over the step's sequences of each one's mean token loss) rather than every trained token
     * ({@code token}, the default, Hugging Face's Trainer).
     */
    public boolean normalisesPerSequence() {
        String normalisation =
                recipe.trainingConfig() == null || recipe.trainingConfig().lossNormalization() == null
                        ? RecipeDefaults.LOSS_NORMALIZATION
                        : recipe.trainingConfig().lossNormalization();
        return "sequence".equalsIgnoreCase(normalisation);
    }

    /** The base model in one line for logs and the run's row, with its 4-bit layers when it has them. */
    public String describeModel() {
        return RecipeModels.describe(model, quantization());
    }

    /** How the base's linear layers are held in 4 bits (QLoRA), or null for a dense base. */
    public FourBitConfig quantization() {
        return RecipeModels.quantization(recipe);
    }

    /**
     * The precision a run computes in on {@code device}: the device's (bfloat16 on GPUs that support it, float32
     * elsewhere), or float32 when a 4-bit recipe asks for it ({@code bnb_4bit_compute_dtype: float32}).
     */
    public Precision precisionOn(Device device) {
        FourBitConfig quantization = quantization();
        if (quantization != null && "float32".equals(quantization.computeDtype())) {
            return Precision.FLOAT32;
        }
        return Compute.precision(device);
    }

    /**
     * AdamW and its learning-rate schedule, as Hugging Face's TrainingArguments name them.
     *
     * @param scheduleOptions the schedule's lr_scheduler_kwargs
     * @param warmupRatio     the warmup as a fraction of a length the data will give (num_train_epochs without
     *                        max_steps), else null and {@code warmupSteps} holds it
     */
    public record Optimisation(
            double learningRate,
            double beta1,
            double beta2,
            double epsilon,
            double weightDecay,
            double maxGradNorm,
            LearningRateSchedule.Kind schedule,
            LearningRateSchedule.Options scheduleOptions,
            long warmupSteps,
            Double warmupRatio) {

        /**
         * The schedule over {@code totalSteps}. Without a length (a stream, or a run whose data has not yet given it
         * its length) a schedule that spans one warms up and then holds the rate until the length is known.
         */
        public LearningRateSchedule scheduleOver(Long totalSteps) {
            if (totalSteps == null) {
                LearningRateSchedule.Kind kind = LearningRateSchedule.needsLength(schedule, scheduleOptions)
                        ? LearningRateSchedule.Kind.CONSTANT_WITH_WARMUP
                        : schedule;
                return new LearningRateSchedule(kind, learningRate, warmupSteps, null, scheduleOptions);
            }
            long warmup = warmupRatio == null ? warmupSteps : (long) Math.ceil(warmupRatio * totalSteps);
            return new LearningRateSchedule(
                    schedule, learningRate, Math.min(warmup, totalSteps), totalSteps, scheduleOptions);
        }

        /** Whether the schedule spans the run's length (it decays over it). */
        public boolean needsLength() {
            return LearningRateSchedule.needsLength(schedule, scheduleOptions);
        }
    }

    /**
     * Whether the run learns its length from its data before training: epochs over a stream (no max_steps) with a
     * schedule that needs the length (a decaying learning rate, warmup_ratio, JoLA's linear gate schedule). Its first
     * pass then reads the stream without training until the stream goes quiet, and the run is
     * {@link #stepsFor} that many batches, trained from the first one.
     */
    public boolean lengthFromData() {
        return lengthFromData(epochs, optimisation, jola);
    }

    /** {@link #lengthFromData()} of a plan being settled. */
    static boolean lengthFromData(Double epochs, Optimisation optimisation, Jola jola) {
        return epochs != null
                && (optimisation.needsLength()
                        || optimisation.warmupRatio() != null
                        || (jola != null && jola.schedule() == GateSchedule.Kind.LINEAR));
    }

    /** Micro-batches a run with epochs trains over data of {@code batches} batches (fractions of epochs allowed). */
    public long batchBudget(long batches) {
        return Math.round(epochs * batches);
    }

    /**
     * Optimiser steps of a run with epochs over data of {@code batches} batches: ceil(budget / accumulation), the
     * last step taking what is accumulated. Accumulation runs on across epochs, so where the batches do not divide
     * by gradient_accumulation_steps this is fewer than Hugging Face's Trainer, which also steps at each epoch's end.
     */
    public long stepsFor(long batches) {
        return Math.max(1, (long) Math.ceil((double) batchBudget(batches) / gradientAccumulation));
    }

    /** JoLA's gate schedule and penalty form. */
    public record Jola(GateSchedule.Kind schedule, double gateLambda, JolaGates.Penalty penalty, String scheduleName) {}

    public String recipeId() {
        return recipe.id();
    }
}
