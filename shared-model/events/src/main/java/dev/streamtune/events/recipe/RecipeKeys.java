package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.lang.reflect.RecordComponent;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys a recipe section accepts, as its record declares them (snake_case), the other names users know them
 * by (newer or older transformers, Axolotl, PEFT), and the keys of those tools that are understood but have no
 * effect here.
 */
final class RecipeKeys {

    private RecipeKeys() {}

    /** Key -> the record component's type, for a snake_case section record. */
    static Map<String, Class<?>> of(Class<? extends Record> section) {
        Map<String, Class<?>> keys = new LinkedHashMap<>();
        PropertyNamingStrategies.SnakeCaseStrategy snake = new PropertyNamingStrategies.SnakeCaseStrategy();
        for (RecordComponent component : section.getRecordComponents()) {
            JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
            String name = property != null && !property.value().isEmpty()
                    ? property.value()
                    : snake.translate(component.getName());
            keys.put(name, component.getType());
        }
        return keys;
    }

    /**
     * The keys whose values are a closed set ({@code section.key} -> the values), in the order they are listed to
     * users: what the parser checks, and the JSON Schema's enums ({@link RecipeSchema}).
     */
    static Map<String, List<String>> allowedValues() {
        return ALLOWED_VALUES;
    }

    private static final Map<String, List<String>> ALLOWED_VALUES = closedSets();

    private static Map<String, List<String>> closedSets() {
        Map<String, List<String>> values = new LinkedHashMap<>();
        values.put("model_config.applied_module", List.of("attention"));
        values.put("model_config.dtype", List.of("auto", "float32", "float16", "bfloat16"));
        values.put("data_config.format_type", List.of(ChatTemplateNames.all()));
        values.put("data_config.train_on", List.of("assistant", "last_assistant", "all"));
        values.put("data_config.system_prompt_mode", List.of("default", "override", "drop"));
        values.put("data_config.truncation", List.of("drop", "truncate", "split"));
        values.put(
                "training_config.lr_scheduler_type",
                List.of(
                        "constant",
                        "constant_with_warmup",
                        "linear",
                        "cosine",
                        "cosine_with_restarts",
                        "polynomial",
                        "cosine_with_min_lr",
                        "warmup_stable_decay",
                        "inverse_sqrt"));
        values.put("training_config.loss_normalization", List.of("token", "sequence"));
        values.put("training_config.on_bad_batch", List.of("skip", "fail"));
        values.put("training_config.save_strategy", List.of("no", "steps", "epoch"));
        values.put("training_config.evaluation_strategy", List.of("no", "steps", "epoch"));
        values.put("lora_config.bias", List.of("none"));
        values.put("jola_config.gate_scheduler", List.of("expon", "linear", "cyclic", "perform", "fixed"));
        values.put("jola_config.penalty", List.of("coded", "blog"));
        return Collections.unmodifiableMap(values);
    }

    static Map<String, String> aliases(String section) {
        return switch (section) {
            case "model_config" ->
                Map.of(
                        "torch_dtype", "dtype",
                        "model_name_or_path", "pretrained_model_name_or_path",
                        "base_model", "pretrained_model_name_or_path",
                        "tokenizer_name_or_path", "tokenizer",
                        // GPT-2's config.json names for a model built from scratch
                        "n_embd", "hidden_size",
                        "n_inner", "intermediate_size",
                        "n_layer", "num_hidden_layers",
                        "n_head", "num_attention_heads",
                        "n_positions", "max_position_embeddings");
            case "data_config" ->
                Map.of(
                        "max_length", "max_seq_length",
                        "sequence_len", "max_seq_length",
                        "template", "format_type",
                        "sample_packing", "packing",
                        "val_set_size", "valid_ratio",
                        "val_size", "valid_ratio");
            case "training_config" ->
                Map.of(
                        "eval_strategy", "evaluation_strategy",
                        "num_epochs", "num_train_epochs",
                        "micro_batch_size", "per_device_train_batch_size",
                        "lr_scheduler", "lr_scheduler_type",
                        "optimizer", "optim",
                        "adapter", "finetuning_type");
            case "lora_config" ->
                Map.of(
                        "lora_r", "r",
                        "lora_target_modules", "target_modules",
                        "alpha", "lora_alpha",
                        "dropout", "lora_dropout");
            default -> Map.of();
        };
    }

    /**
     * Keys of the recipe's records that are accepted, kept on the recipe as written, and have no effect here, with
     * why: the parser warns when one is set (a nested key is refused instead where its value asks for what is not
     * done). Every other key is read by the code that runs recipes
     * ({@code RecipeKeysReadTest} in pipeline-tests checks both halves against the compiled services).
     */
    static Map<String, String> withoutEffect(String section) {
        return switch (section) {
            case "model_config" ->
                Map.of(
                        "device",
                        "the device is the trainer's, chosen where it is deployed (STREAMTUNE_DEVICE, else a GPU when"
                                + " PyTorch sees one), and shared by every run",
                        "quantization_config.load_in_8bit",
                        "8-bit bases (LLM.int8()) are refused when asked for; false, the default, changes nothing",
                        "base_model_name",
                        "a label in the JoLA authors' trainer; the model is pretrained_model_name_or_path",
                        "cache_dir",
                        "models are read from folders under the trainer's model root; nothing is downloaded or cached",
                        "applied_module",
                        "JoLA edits the attention heads' outputs (the JoLA authors' applied_module: attention); other"
                                + " modules are refused");
            case "data_config" ->
                Map.of(
                        "data_path",
                        "data reaches the platform through ingest-service and its topics; name the datasets to read"
                                + " in data_config.datasets");
            default -> Map.of();
        };
    }

    /** Keys other tools use that are known to have no effect here, with why. */
    static Map<String, String> ignored(String section) {
        return switch (section) {
            case "model_config" ->
                Map.of(
                        "trust_remote_code", "models run through this platform's own architectures, never remote code",
                        "attn_implementation", "attention is computed by the runtime's own kernels",
                        "use_cache", "the key/value cache is used for generation only, automatically",
                        "low_cpu_mem_usage", "checkpoints are memory-mapped already",
                        "revision", "models are read from local folders",
                        "applied_layers", "JoLA edits every layer's heads here");
            case "training_config" ->
                Map.ofEntries(
                        Map.entry("report_to", "metrics go to /q/metrics and the evaluations topic"),
                        Map.entry("logging_steps", "every step is reported in metrics"),
                        Map.entry("logging_strategy", "every step is reported in metrics"),
                        Map.entry("logging_dir", "metrics go to /q/metrics"),
                        Map.entry("do_train", "a recipe always trains"),
                        Map.entry("do_eval", "every checkpoint is evaluated by eval-service"),
                        Map.entry("run_name", "the recipe id names the run"),
                        Map.entry("overwrite_output_dir", "checkpoints are kept by save_total_limit"),
                        Map.entry("remove_unused_columns", "records are already normalised"),
                        Map.entry("dataloader_num_workers", "batches come from the tokenize service"),
                        Map.entry(
                                "metric_for_best_model",
                                "the best checkpoint is the one with the lowest validation loss"),
                        Map.entry(
                                "greater_is_better", "the best checkpoint is the one with the lowest validation loss"),
                        Map.entry("push_to_hub", "artefacts are written under the checkpoint root"),
                        Map.entry("hub_model_id", "artefacts are written under the checkpoint root"),
                        Map.entry("save_safetensors", "checkpoints are always safetensors"),
                        Map.entry("disable_tqdm", "there is no progress bar"),
                        Map.entry(
                                "gradient_checkpointing_kwargs",
                                "checkpointing is always per decoder layer, re-entrant" + " style"),
                        Map.entry("fp16", "float16 training is not supported; bf16 is used on GPUs that support it"));
            case "lora_config" ->
                Map.of(
                        "task_type", "always CAUSAL_LM",
                        "inference_mode", "set when an adapter is saved",
                        "init_lora_weights", "PEFT's default initialisation (kaiming-uniform A, zero B) is used",
                        "fan_in_fan_out", "follows from the model's layers (true for GPT-2's Conv1D)");
            default -> Map.of();
        };
    }
}
