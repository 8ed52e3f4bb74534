package dev.streamtune.events.recipe;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;

/**
 * What every recipe key that is left out means, in one place: each stage that settles a recipe (the trainer's plan,
 * the tokenizer's, the formatter, the evaluator) takes its default from here. The values are those of the tool whose
 * key names a recipe uses (transformers' {@code TrainingArguments}, PEFT's {@code LoraConfig}, TRL's
 * {@code SFTConfig}, the JoLA authors' code), so a recipe written for them trains the same here.
 *
 * <p>Each constant names its key ({@link Key}); README's recipe defaults table lists the same keys and values, and a
 * test holds the two together.
 */
public final class RecipeDefaults {

    /** The recipe key a default is for, as README's defaults table names it. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Key {
        String value();
    }

    private RecipeDefaults() {}

    // ---- training_config: transformers' TrainingArguments ----

    /** The peak rate: TrainingArguments' 5e-5 (a full fine-tuning rate; adapters usually ask for more). */
    @Key("training_config.learning_rate")
    public static final double LEARNING_RATE = 5e-5;

    /** TrainingArguments' schedule: linear decay to 0 over the run (a stream without a length holds it after warmup). */
    @Key("training_config.lr_scheduler_type")
    public static final String LR_SCHEDULER_TYPE = "linear";

    /** No warmup, as TrainingArguments. */
    @Key("training_config.warmup_steps")
    public static final int WARMUP_STEPS = 0;

    /** PyTorch's AdamW (decoupled weight decay, bias correction), TrainingArguments' default. */
    @Key("training_config.optim")
    public static final String OPTIM = "adamw_torch";

    /** Rows per micro-batch (a TrainBatch): TrainingArguments' 8. */
    @Key("training_config.per_device_train_batch_size")
    public static final int PER_DEVICE_TRAIN_BATCH_SIZE = 8;

    /** One micro-batch per optimiser step, as TrainingArguments. */
    @Key("training_config.gradient_accumulation_steps")
    public static final int GRADIENT_ACCUMULATION_STEPS = 1;

    /** A checkpoint every 500 optimiser steps: TrainingArguments' save_steps. */
    @Key("training_config.save_steps")
    public static final int SAVE_STEPS = 500;

    /** Checkpoints by step count: TrainingArguments' save_strategy. */
    @Key("training_config.save_strategy")
    public static final String SAVE_STRATEGY = "steps";

    /**
     * No checkpoints for evaluation beyond the saved ones: TrainingArguments' eval_strategy (eval-service scores
     * every checkpoint the trainer announces, so an evaluation strategy adds checkpoints).
     */
    @Key("training_config.evaluation_strategy")
    public static final String EVALUATION_STRATEGY = "no";

    /** TrainingArguments' seed, which also draws a from-scratch model's weights and generation's samples. */
    @Key("training_config.seed")
    public static final long SEED = 42;

    /** AdamW's first-moment decay: TrainingArguments' adam_beta1 (torch's AdamW default). */
    @Key("training_config.adam_beta1")
    public static final double ADAM_BETA1 = 0.9;

    /** AdamW's second-moment decay: TrainingArguments' adam_beta2. */
    @Key("training_config.adam_beta2")
    public static final double ADAM_BETA2 = 0.999;

    /** AdamW's denominator guard: TrainingArguments' adam_epsilon. */
    @Key("training_config.adam_epsilon")
    public static final double ADAM_EPSILON = 1e-8;

    /** No decoupled weight decay, as TrainingArguments. */
    @Key("training_config.weight_decay")
    public static final double WEIGHT_DECAY = 0.0;

    /** Gradients clipped to a global norm of 1, as TrainingArguments. */
    @Key("training_config.max_grad_norm")
    public static final double MAX_GRAD_NORM = 1.0;

    /** Any improvement of the best validation loss counts: transformers' EarlyStoppingCallback threshold. */
    @Key("training_config.early_stopping_threshold")
    public static final double EARLY_STOPPING_THRESHOLD = 0.0;

    /** A step's loss is the mean over its trained tokens, as Hugging Face's Trainer computes it. */
    @Key("training_config.loss_normalization")
    public static final String LOSS_NORMALIZATION = "token";

    /** A batch that cannot be trained becomes a dead letter and the run goes on: one bad batch does not end a run. */
    @Key("training_config.on_bad_batch")
    public static final String ON_BAD_BATCH = "skip";

    // ---- training_config.lr_scheduler_kwargs: transformers' schedulers' own defaults ----

    /** cosine, cosine_with_min_lr and warmup_stable_decay's cosine decay: half a wave, from the peak down to the end. */
    @Key("training_config.lr_scheduler_kwargs.num_cycles")
    public static final double NUM_CYCLES = 0.5;

    /** cosine_with_restarts: one hard restart cycle (get_cosine_with_hard_restarts_schedule_with_warmup's 1). */
    @Key("training_config.lr_scheduler_kwargs.num_cycles (cosine_with_restarts)")
    public static final double NUM_CYCLES_WITH_RESTARTS = 1.0;

    /** polynomial: the rate it ends at (get_polynomial_decay_schedule_with_warmup's 1e-7). */
    @Key("training_config.lr_scheduler_kwargs.lr_end")
    public static final double LR_END = 1e-7;

    /** polynomial: a linear decay (power 1), as transformers. */
    @Key("training_config.lr_scheduler_kwargs.power")
    public static final double POWER = 1.0;

    /** warmup_stable_decay: warmup and decay reach down to 0, as transformers. */
    @Key("training_config.lr_scheduler_kwargs.min_lr_ratio")
    public static final double MIN_LR_RATIO = 0.0;

    /** warmup_stable_decay: the warmup's shape, as transformers. */
    @Key("training_config.lr_scheduler_kwargs.warmup_type")
    public static final String WARMUP_TYPE = "linear";

    /** warmup_stable_decay: the decay's shape, as transformers. */
    @Key("training_config.lr_scheduler_kwargs.decay_type")
    public static final String DECAY_TYPE = "cosine";

    /** inverse_sqrt: the time scale is the warmup steps, or transformers' 10,000 when there is no warmup. */
    @Key("training_config.lr_scheduler_kwargs.timescale (without warmup)")
    public static final long TIMESCALE_WITHOUT_WARMUP = 10_000;

    // ---- lora_config: PEFT's LoraConfig ----

    /** PEFT's rank 8. */
    @Key("lora_config.r")
    public static final int LORA_R = 8;

    /** PEFT's lora_alpha 8: a scale alpha / r of 1 at the default rank. */
    @Key("lora_config.lora_alpha")
    public static final double LORA_ALPHA = 8;

    /** PEFT's: no dropout on the adapters' input. */
    @Key("lora_config.lora_dropout")
    public static final double LORA_DROPOUT = 0.0;

    /** PEFT's targets for Llama-family models when a recipe names none (its per-architecture mapping). */
    @Key("lora_config.target_modules (llama, qwen2, olmo2)")
    public static final List<String> TARGET_MODULES_LLAMA = List.of("q_proj", "v_proj");

    /** PEFT's targets for GPT-2 when a recipe names none: the fused attention projection. */
    @Key("lora_config.target_modules (gpt2)")
    public static final List<String> TARGET_MODULES_GPT2 = List.of("c_attn");

    // ---- jola_config: the JoLA authors' code ----

    /** No gate penalty unless asked for (the authors' configs set it; their recipe uses 4e-5). */
    @Key("jola_config.gate_lambda")
    public static final double GATE_LAMBDA = 0.0;

    /** The schedule of the penalty's weight in the authors' configs. */
    @Key("jola_config.gate_scheduler")
    public static final String GATE_SCHEDULER = "expon";

    /** The expected-L0 penalty in the form the authors' code computes (rather than their blog's). */
    @Key("jola_config.penalty")
    public static final String PENALTY = "coded";

    // ---- data_config: TRL's SFTConfig and this pipeline's stages ----

    /** TRL SFTConfig's max_length, 1024 tokens. */
    @Key("data_config.max_seq_length")
    public static final int MAX_SEQ_LENGTH = 1024;

    /** No packing, as TRL: each example is a row, padded to the longest of its batch. */
    @Key("data_config.packing")
    public static final boolean PACKING = false;

    /** An example longer than max_seq_length is dropped and counted as a dead letter: nothing is cut silently. */
    @Key("data_config.truncation")
    public static final String TRUNCATION = "drop";

    /**
     * Every assistant turn is trained, prompts and user turns are context (TRL's assistant_only_loss: a model trained
     * on the users' turns learns to write them).
     */
    @Key("data_config.train_on")
    public static final String TRAIN_ON = "assistant";

    /** A conversation's own system prompt, else the recipe's. */
    @Key("data_config.system_prompt_mode")
    public static final String SYSTEM_PROMPT_MODE = "default";

    /** The template when the recipe names none and the model has no chat_template of its own (which wins when it has). */
    @Key("data_config.format_type (the model has no chat_template)")
    public static final String FORMAT_TYPE_WITHOUT_MODEL_TEMPLATE = "chatml";

    /** A dataset listed without a weight mixes in equal proportion with the others. */
    @Key("data_config.datasets[].weight")
    public static final double DATASET_WEIGHT = 1.0;

    // ---- model_config ----

    /** A from-scratch model's context without max_seq_length (which it takes when given): LlamaConfig's 2048. */
    @Key("model_config.max_position_embeddings (from scratch, without max_seq_length)")
    public static final int MAX_POSITION_EMBEDDINGS = 2048;

    /** The QLoRA paper's NormalFloat4, as TRL, Axolotl and LLaMA-Factory default to (bare BitsAndBytesConfig: fp4). */
    @Key("model_config.quantization_config.bnb_4bit_quant_type")
    public static final String BNB_4BIT_QUANT_TYPE = "nf4";

    /** The QLoRA paper's double quantisation of the block scales, as TRL, Axolotl and LLaMA-Factory default to. */
    @Key("model_config.quantization_config.bnb_4bit_use_double_quant")
    public static final boolean BNB_4BIT_USE_DOUBLE_QUANT = true;

    // ---- generation_config: transformers' GenerationConfig (under do_sample) ----

    /** Sampling at the model's own distribution, as GenerationConfig. */
    @Key("generation_config.temperature")
    public static final double TEMPERATURE = 1.0;

    /** GenerationConfig's top_k 50. */
    @Key("generation_config.top_k")
    public static final int TOP_K = 50;

    /** No nucleus cut, as GenerationConfig. */
    @Key("generation_config.top_p")
    public static final double TOP_P = 1.0;

    /** No repetition penalty, as GenerationConfig. */
    @Key("generation_config.repetition_penalty")
    public static final double REPETITION_PENALTY = 1.0;
}
