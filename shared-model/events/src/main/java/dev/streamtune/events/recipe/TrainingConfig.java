package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Optimisation settings, named as in Hugging Face {@code TrainingArguments}.
 *
 * @param lrSchedulerKwargs the schedule's extra arguments, as transformers' {@code lr_scheduler_kwargs}
 * @param finetuningType lora, dora, jola or full (LLaMA-Factory's name); when absent it follows from the recipe's
 *                       lora_config or jola_config section
 * @param continuous     keep training as new batches stream in, past max_steps / the epochs, checkpointing as
 *                       save_strategy / eval_strategy say (steps: every save_steps / eval_steps)
 * @param onBadBatch     skip (the default: the batch becomes a dead letter and the run goes on) or fail (the run
 *                       stops, failed, naming the batch)
 * @param gradientCheckpointing recompute each decoder layer's activations in the backward pass instead of keeping
 *                       them (Llama-family models): memory for one layer's activations, about a third more compute
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingConfig(
        Double learningRate,
        String lrSchedulerType,
        SchedulerKwargs lrSchedulerKwargs,
        Integer warmupSteps,
        Double warmupRatio,
        Integer perDeviceTrainBatchSize,
        Integer perDeviceEvalBatchSize,
        Integer gradientAccumulationSteps,
        Double numTrainEpochs,
        Integer maxSteps,
        String evaluationStrategy,
        Integer evalSteps,
        String saveStrategy,
        Integer saveSteps,
        Integer saveTotalLimit,
        Boolean loadBestModelAtEnd,
        Integer earlyStoppingPatience,
        Long seed,
        Boolean bf16,
        Double weightDecay,
        Double maxGradNorm,
        Double adamBeta1,
        Double adamBeta2,
        Double adamEpsilon,
        String lossNormalization,
        String outputDir,
        String finetuningType,
        Double earlyStoppingThreshold,
        String optim,
        Boolean continuous,
        String onBadBatch,
        Boolean gradientCheckpointing) {}
