package dev.streamtune.events.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The flat layout of Axolotl, LLaMA-Factory and TRL's {@code trl sft --config} files (every key at the top level),
 * placed into the recipe's sections before the sections are read, so that users bring those files unchanged.
 *
 * <ul>
 *   <li>A key a section has (under its name or an alias {@link RecipeKeys} knows) goes to that section as written,
 *       so the section's checks and messages apply; the message names the key as written at the top.</li>
 *   <li>Keys whose values need translating (LLaMA-Factory's {@code lora_target: all}, Axolotl's
 *       {@code lora_target_linear} and {@code train_on_inputs}, the datasets of each tool...) are translated here.</li>
 *   <li>Keys that change nothing here are reported with why; an empty key ({@code fp16:}) sets nothing and says
 *       nothing. Quantisation keys stay at the top, where {@link QuantizationKeys} reads them.</li>
 *   <li>Without an adapter key, each tool's own default method applies: Axolotl and TRL train every weight,
 *       LLaMA-Factory trains LoRA.</li>
 * </ul>
 *
 * A file with sections and flat keys at the top is refused: one of the two would be read the way the user did not
 * mean.
 */
final class FlatRecipeLayout {

    /** The tools whose flat files are read, and the keys that only each writes. */
    enum Tool {
        AXOLOTL(
                "Axolotl",
                Set.of(
                        "base_model",
                        "adapter",
                        "micro_batch_size",
                        "sequence_len",
                        "num_epochs",
                        "lora_target_linear",
                        "train_on_inputs",
                        "val_set_size",
                        "sample_packing",
                        "lr_scheduler",
                        "optimizer",
                        "special_tokens",
                        "datasets")),
        LLAMA_FACTORY(
                "LLaMA-Factory",
                Set.of(
                        "stage",
                        "finetuning_type",
                        "lora_rank",
                        "lora_target",
                        "cutoff_len",
                        "dataset",
                        "template",
                        "val_size",
                        "quantization_bit",
                        "max_samples",
                        "plot_loss")),
        TRL(
                "TRL",
                Set.of(
                        "dataset_name",
                        "use_peft",
                        "assistant_only_loss",
                        "completion_only_loss",
                        "dataset_text_field",
                        "max_length",
                        "use_bnb_nested_quant",
                        "dataset_train_split"));

        final String title;
        final Set<String> markers;

        Tool(String title, Set<String> markers) {
            this.title = title;
            this.markers = markers;
        }
    }

    /** The sections in the order a key is looked up in them (seed is training_config's before generation_config's). */
    /** The sections and the record each is read into, as the parser has them (in the order they are tried). */
    private static final Map<String, Class<? extends Record>> RECORDS = RecipeParser.sectionTypes();

    /** Flat keys under another name than their section's: flat key -> section.key. */
    private static final Map<String, String> RENAMED = Map.of(
            "lora_rank", "lora_config.r",
            "cutoff_len", "data_config.max_seq_length",
            "lora_modules_to_save", "lora_config.modules_to_save",
            "lora_fan_in_fan_out", "lora_config.fan_in_fan_out",
            "lora_task_type", "lora_config.task_type",
            "eval_max_new_tokens", "generation_config.max_new_tokens",
            "model_revision", "model_config.revision");

    private static final String ONE_DEVICE = "a run trains on one device; there is nothing to shard or launch";
    private static final String KERNELS = "attention is computed by the runtime's own kernels";
    private static final String METRICS = "metrics go to /q/metrics and the evaluations topic";
    private static final String STREAMED = "records are formatted as they stream, by the format service";
    private static final String SPLITS =
            "a dataset's splits are set when it is ingested (split=90/10...); training reads its train split";

    /** Keys of the three tools that change nothing here, with why. */
    private static final Map<String, String> NO_EFFECT = Map.ofEntries(
            Map.entry("deepspeed", ONE_DEVICE),
            Map.entry("fsdp", ONE_DEVICE),
            Map.entry("fsdp_config", ONE_DEVICE),
            Map.entry("ddp_timeout", ONE_DEVICE),
            Map.entry("local_rank", ONE_DEVICE),
            Map.entry("strict", "it is a setting of Axolotl's launcher"),
            Map.entry("flash_attention", KERNELS),
            Map.entry("xformers_attention", KERNELS),
            Map.entry("sdp_attention", KERNELS),
            Map.entry("s2_attention", KERNELS),
            Map.entry("use_liger_kernel", "the runtime's own kernels are used"),
            Map.entry("padding_free", "packed sequences never attend across documents already"),
            Map.entry("tf32", "the compute type follows the device"),
            Map.entry("model_type", "the architecture is read from the model folder's config.json"),
            Map.entry("tokenizer_type", "the tokenizer is read from the model folder's tokenizer.json"),
            Map.entry(
                    "dataset_prepared_path", "records are formatted and tokenized as they stream; nothing is prepared"),
            Map.entry("pad_to_sequence_len", "batches are packed or padded by the tokenize service"),
            Map.entry("group_by_length", "batches are formed in stream order by the tokenize service"),
            Map.entry("plot_loss", "the loss by step is in /q/metrics"),
            Map.entry("preprocessing_num_workers", STREAMED),
            Map.entry("dataset_num_proc", STREAMED),
            Map.entry("overwrite_cache", "there is no preprocessing cache; records are formatted as they stream"),
            Map.entry(
                    "max_samples",
                    "a run trains on every record its datasets stream; bound it with max_steps, or a dataset's size"
                            + " when it is ingested (split=sizes:...)"),
            Map.entry("resume_from_checkpoint", "a run resumes from its latest checkpoint by itself, exactly"),
            Map.entry("save_only_model", "a checkpoint always holds the optimiser state too, for exact resume"),
            Map.entry("debug", "the stages' metrics and dead letters show what was made of each record"),
            Map.entry(
                    "evals_per_epoch",
                    "an epoch's length is not known when a recipe is read (data streams in); every checkpoint"
                            + " (save_steps) is evaluated by eval-service"),
            Map.entry(
                    "saves_per_epoch",
                    "an epoch's length is not known when a recipe is read (data streams in); a checkpoint is saved"
                            + " every save_steps"),
            Map.entry("eval_table_size", "eval-service generates for generation_config.num_samples examples"),
            Map.entry("dataset_config", SPLITS),
            Map.entry("dataset_train_split", SPLITS),
            Map.entry("dataset_test_split", SPLITS),
            Map.entry(
                    "eval_dataset",
                    "validation examples are the validation split of the datasets the recipe reads, as ingested"),
            Map.entry("dataset_text_field", "records are conversations, rendered by data_config.format_type"),
            Map.entry("completion_only_loss", "which tokens are trained is data_config.train_on"),
            Map.entry(
                    "gradient_checkpointing_use_reentrant",
                    "checkpointing is always per decoder layer, re-entrant style"));

    /** Prefixes of whole families of keys that change nothing here. */
    private static final Map<String, String> NO_EFFECT_PREFIXES = Map.of(
            "wandb_", METRICS,
            "liger_", "the runtime's own kernels are used",
            "hub_", "artefacts are written under the checkpoint root");

    /** The keys handled below, by their values, rather than by a section. */
    private static final Set<String> TRANSLATED = Set.of(
            "stage",
            "datasets",
            "dataset",
            "dataset_name",
            "lora_target",
            "lora_target_linear",
            "lora_target_modules",
            "lora_model_dir",
            "train_on_inputs",
            "assistant_only_loss",
            "template",
            "chat_template",
            "bf16",
            "optimizer",
            "optim",
            "val_set_size",
            "val_size",
            "special_tokens",
            "use_peft");

    /** LLaMA-Factory's and Axolotl's template names that are templates here. */
    private static final Set<String> TEMPLATES = templates();

    private static Set<String> templates() {
        Set<String> names = new TreeSet<>(ChatTemplateNames.NAMED);
        names.addAll(List.of("chatml", "alpaca", "llama3"));
        return Set.copyOf(names);
    }

    private static final Set<String> LORA_KEYS = Set.of("r", "lora_alpha", "lora_dropout", "target_modules");

    private final List<String> problems;
    private final List<String> warnings;
    private final Map<String, String> writtenAs = new HashMap<>();
    private final Map<String, ObjectNode> sections = new LinkedHashMap<>();

    FlatRecipeLayout(List<String> problems, List<String> warnings) {
        this.problems = problems;
        this.warnings = warnings;
    }

    /** Every key a flat file may hold, to name the nearest one to a typo. */
    static Set<String> knownKeys() {
        Set<String> known = new TreeSet<>();
        for (String section : RECORDS.keySet()) {
            known.addAll(RecipeKeys.of(RECORDS.get(section)).keySet());
            known.addAll(RecipeKeys.aliases(section).keySet());
            known.addAll(RecipeKeys.ignored(section).keySet());
        }
        known.addAll(RENAMED.keySet());
        known.addAll(NO_EFFECT.keySet());
        known.addAll(TRANSLATED);
        known.addAll(QuantizationKeys.keys());
        return known;
    }

    /**
     * The path a message should name for a key placed in a section: the key as the file wrote it at the top, or the
     * section path itself when the file was in sections.
     */
    String writtenAs(String sectionPath) {
        return writtenAs.getOrDefault(sectionPath, sectionPath);
    }

    /**
     * Places a flat file's keys into sections, in place; a file in sections (or with no key of these tools) is left
     * as it is. Keys of no section and of no tool stay at the top, for the parser to report as unknown.
     *
     * @param topLevel the keys a recipe has at its top in either layout (id, name...)
     * @return whether the file was flat
     */
    boolean arrange(ObjectNode root, Set<String> topLevel) {
        List<String> present = new ArrayList<>();
        root.fieldNames().forEachRemaining(present::add);
        List<String> sectionKeys = present.stream().filter(RECORDS::containsKey).toList();
        List<String> flatKeys = present.stream()
                .filter(key -> !RECORDS.containsKey(key)
                        && !topLevel.contains(key)
                        && !QuantizationKeys.handles(key)
                        && known(key))
                .toList();
        if (flatKeys.isEmpty()) {
            return false;
        }
        if (!sectionKeys.isEmpty()) {
            problems.add(String.join(", ", flatKeys) + ": flat keys beside the sections "
                    + String.join(", ", sectionKeys) + ": a recipe is either in sections or flat (as Axolotl,"
                    + " LLaMA-Factory and TRL write it), not both; move each key into its section or write every key"
                    + " flat");
            return false;
        }
        Tool tool = tool(present);
        warnings.add("the file is read as a flat " + (tool == null ? "" : tool.title + " ") + "config: each key is"
                + " placed in the recipe section that holds it");

        ObjectNode rest = JsonNodeFactory.instance.objectNode();
        Map<String, JsonNode> targets = new LinkedHashMap<>();
        boolean allLinear = false;
        Boolean usePeft = null;
        for (String key : present) {
            JsonNode value = root.get(key);
            if (topLevel.contains(key) || QuantizationKeys.handles(key)) {
                rest.set(key, value);
            } else if (empty(value)) {
                continue; // an empty key sets nothing (Axolotl's examples leave many so)
            } else if (key.equals("lora_target_linear")) {
                allLinear = bool(key, value);
            } else if (key.equals("lora_target_modules") || key.equals("lora_target")) {
                targets.put(key, value);
            } else if (key.equals("use_peft")) {
                usePeft = bool(key, value);
            } else if (TRANSLATED.contains(key)) {
                translate(key, value);
            } else if (NO_EFFECT.containsKey(key)) {
                noEffect(key, NO_EFFECT.get(key));
            } else if (RENAMED.containsKey(key)) {
                String[] at = RENAMED.get(key).split("\\.", 2);
                place(at[0], at[1], key, value);
            } else if (sectionOf(key) != null) {
                place(sectionOf(key), key, key, value);
            } else if (prefixReason(key) != null) {
                noEffect(key, prefixReason(key));
            } else {
                rest.set(key, value); // reported as unknown, with the nearest known key
            }
        }
        targets(targets, allLinear);
        method(tool, usePeft);

        root.removeAll();
        sections.forEach(root::set);
        root.setAll(rest);
        return true;
    }

    private static boolean known(String key) {
        return RENAMED.containsKey(key)
                || NO_EFFECT.containsKey(key)
                || TRANSLATED.contains(key)
                || sectionOf(key) != null
                || prefixReason(key) != null;
    }

    private static String sectionOf(String key) {
        for (String section : RECORDS.keySet()) {
            if (RecipeKeys.of(RECORDS.get(section)).containsKey(key)
                    || RecipeKeys.aliases(section).containsKey(key)
                    || RecipeKeys.ignored(section).containsKey(key)) {
                return section;
            }
        }
        return null;
    }

    private static String prefixReason(String key) {
        return NO_EFFECT_PREFIXES.entrySet().stream()
                .filter(prefix -> key.startsWith(prefix.getKey()))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    /** The tool with the most of its own keys in the file, or null when none has any. */
    private static Tool tool(List<String> keys) {
        Tool best = null;
        long most = 0;
        for (Tool tool : Tool.values()) {
            long count = keys.stream().filter(tool.markers::contains).count();
            if (count > most) {
                most = count;
                best = tool;
            }
        }
        return best;
    }

    private void translate(String key, JsonNode value) {
        switch (key) {
            case "stage" -> {
                String stage = value.asText().trim().toLowerCase(Locale.ROOT);
                if (!stage.equals("sft")) {
                    problems.add("stage: '" + value.asText() + "': only supervised fine-tuning (sft) is supported"
                            + " here; pt, rm, ppo, dpo and kto are not");
                }
            }
            case "datasets" -> datasets(value);
            case "dataset" -> {
                if (!value.isTextual()) {
                    place("data_config", "datasets", key, value); // checked there
                    return;
                }
                for (String name : value.asText().split(",")) {
                    if (!name.isBlank()) {
                        dataset(key, name.trim(), name.trim());
                    }
                }
            }
            case "dataset_name" -> {
                if (value.isTextual()) {
                    dataset(
                            key,
                            value.asText().trim(),
                            lastSegment(value.asText().trim()));
                } else {
                    problems.add("dataset_name: expected a dataset's name, found " + describe(value));
                }
            }
            case "lora_model_dir" ->
                problems.add("lora_model_dir: training from a saved adapter is not supported; remove the key to train"
                        + " a new adapter");
            case "train_on_inputs" ->
                place("data_config", "train_on", key, text(bool(key, value) ? "all" : "assistant"));
            case "assistant_only_loss" ->
                place("data_config", "train_on", key, text(bool(key, value) ? "assistant" : "all"));
            case "template" -> template(key, value, "format_type");
            case "chat_template" -> template(key, value, "chat_template");
            case "bf16" -> {
                if (value.asText().trim().equalsIgnoreCase("auto")) {
                    warnings.add("bf16: auto: the compute type follows the device (bfloat16 on GPUs that support it,"
                            + " float32 elsewhere), which is what auto asks for");
                } else {
                    place("training_config", "bf16", key, value);
                }
            }
            case "optimizer", "optim" -> place("training_config", "optim", key, value); // the parser reads it
            case "val_set_size", "val_size" -> validation(key, value);
            case "special_tokens" -> specialTokens(value);
            default -> throw new IllegalStateException("no translation for " + key);
        }
    }

    /** Axolotl's datasets: [{path, type...}]; a recipe's own forms (names, {name, weight}) are kept as they are. */
    private void datasets(JsonNode value) {
        boolean axolotl = value.isArray()
                && value.size() > 0
                && value.get(0).isObject()
                && value.get(0).has("path");
        if (!axolotl) {
            place("data_config", "datasets", "datasets", value);
            return;
        }
        int index = 0;
        for (JsonNode entry : value) {
            String at = "datasets[" + index++ + "]";
            if (!entry.isObject() || !entry.path("path").isTextual()) {
                problems.add(at + ": expected {path, type}, found " + describe(entry));
                continue;
            }
            String path = entry.get("path").asText().trim();
            dataset(at + ".path", path, lastSegment(path));
            entry.fields().forEachRemaining(field -> {
                if (field.getKey().equals("path") || empty(field.getValue())) {
                    return;
                }
                String reason = field.getKey().equals("type")
                        ? "the data's shape (ShareGPT, OpenAI messages, Alpaca...) is detected when it is ingested"
                        : "the dataset is read as ingested, from the stream";
                warnings.add(at + "." + field.getKey() + ": " + field.getValue().asText()
                        + ": understood but has no effect here: " + reason);
            });
        }
    }

    private void dataset(String writtenKey, String written, String name) {
        warnings.add(writtenKey + ": " + written + " is read from the stream as dataset '" + name + "' (ingest it"
                + " under that name); nothing is downloaded");
        ObjectNode data = section("data_config");
        JsonNode existing = data.get("datasets");
        ArrayNode list = existing instanceof ArrayNode array ? array : data.putArray("datasets");
        list.add(name);
        writtenAs.put("data_config.datasets", writtenKey);
    }

    /** A hub id's or a file path's last segment, without extension: mhenrichsen/alpaca_2k_test -> alpaca_2k_test. */
    private static String lastSegment(String path) {
        String stripped = path.replaceAll("[/\\\\]+$", "");
        String last = stripped.substring(Math.max(stripped.lastIndexOf('/'), stripped.lastIndexOf('\\')) + 1);
        int dot = last.lastIndexOf('.');
        return dot > 0 ? last.substring(0, dot) : last;
    }

    private void template(String key, JsonNode value, String sectionKey) {
        String text = value.asText().trim();
        String name = text.toLowerCase(Locale.ROOT);
        if (text.contains("{%") || text.contains("{{")) {
            place("data_config", "chat_template", key, value); // Jinja source
        } else if (TEMPLATES.contains(name)) {
            place("data_config", sectionKey, key, text(name));
        } else if (!name.equals("tokenizer_default")) { // the model's own template is the default here
            warnings.add(key + ": " + text + ": not a template here (" + String.join(", ", new TreeSet<>(TEMPLATES))
                    + "); the model's own"
                    + " chat_template from its tokenizer_config.json is used");
        }
    }

    /** Axolotl's val_set_size and LLaMA-Factory's val_size: a fraction, or a number of examples. */
    private void validation(String key, JsonNode value) {
        double size;
        try {
            size = Double.parseDouble(value.asText().trim());
        } catch (NumberFormatException e) {
            problems.add(key + ": expected a fraction or a number of examples, found " + describe(value));
            return;
        }
        if (size == 0) {
            return; // no validation set: nothing to set
        }
        if (size < 1) {
            warnings.add(key + ": " + value.asText() + " is read as data_config.valid_ratio; note that a dataset's"
                    + " validation split is set when it is ingested (split=90/10...)");
            place("data_config", "valid_ratio", key, value);
        } else {
            place("data_config", "valid_size", key, value); // eval-service's bound on the validation set
        }
    }

    private void specialTokens(JsonNode value) {
        if (!value.isObject()) {
            problems.add("special_tokens: expected a mapping of tokens (eos_token: ...), found " + describe(value));
            return;
        }
        value.fields().forEachRemaining(token -> {
            String at = "special_tokens." + token.getKey();
            if (empty(token.getValue())) {
                return;
            }
            if (token.getKey().equals("eos_token")) {
                place("data_config", "eos_token", at, token.getValue());
            } else if (token.getKey().equals("pad_token")) {
                noEffect(
                        at,
                        "padding positions are masked out of attention and loss, so the pad token changes"
                                + " nothing");
            } else {
                noEffect(
                        at,
                        "special tokens are the model folder's tokenizer's; only eos_token can be set"
                                + " (data_config.eos_token)");
            }
        });
    }

    /** lora_target_linear, lora_target_modules (Axolotl, TRL) and lora_target (LLaMA-Factory) into target_modules. */
    private void targets(Map<String, JsonNode> targets, boolean allLinear) {
        if (allLinear) {
            place("lora_config", "target_modules", "lora_target_linear", text("all-linear"));
            targets.keySet()
                    .forEach(key -> warnings.add(key + ": covered by lora_target_linear: true (every linear layer)"));
            return;
        }
        targets.forEach((key, value) -> {
            if (key.equals("lora_target") && value.isTextual()) {
                String text = value.asText().trim();
                if (text.equalsIgnoreCase("all")) {
                    value = text("all-linear");
                } else {
                    ArrayNode names = JsonNodeFactory.instance.arrayNode();
                    for (String name : text.split(",")) {
                        if (!name.isBlank()) {
                            names.add(name.trim());
                        }
                    }
                    value = names;
                }
            }
            place("lora_config", "target_modules", key, value);
        });
    }

    /**
     * Each tool's method when the file names none: Axolotl without {@code adapter} and TRL without
     * {@code use_peft: true} train every weight; LLaMA-Factory's finetuning_type defaults to lora. LoRA keys the tool
     * would ignore for want of an adapter are refused: the file means something its tool would not do.
     */
    private void method(Tool tool, Boolean usePeft) {
        ObjectNode training = sections.get("training_config");
        boolean named =
                training != null && training.has("finetuning_type") || training != null && training.has("adapter");
        Set<String> loraKeys = sections.containsKey("lora_config")
                ? fieldNames(sections.get("lora_config")).stream()
                        .filter(key -> LORA_KEYS.contains(
                                RecipeKeys.aliases("lora_config").getOrDefault(key, key)))
                        .collect(Collectors.toCollection(LinkedHashSet::new))
                : Set.of();
        if (Boolean.TRUE.equals(usePeft)) {
            if (!named) {
                section("training_config").put("finetuning_type", "lora");
                writtenAs.put("training_config.finetuning_type", "use_peft");
            }
            return;
        }
        if (named || tool == null) {
            return;
        }
        Set<String> written = loraKeys.stream()
                .map(key -> writtenAs("lora_config." + key))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        switch (tool) {
            case AXOLOTL -> {
                if (!written.isEmpty()) {
                    problems.add("adapter: not given, so Axolotl would train every weight and ignore "
                            + String.join(", ", written) + "; write adapter: lora (or qlora) to train LoRA, or"
                            + " remove them for full fine-tuning");
                } else {
                    fullFineTuning("adapter: not given: Axolotl trains every weight, and so does this recipe");
                }
            }
            case TRL -> {
                if (!written.isEmpty()) {
                    problems.add("use_peft: not true, so TRL would train every weight and ignore "
                            + String.join(", ", written) + "; write use_peft: true to train LoRA, or remove them"
                            + " for full fine-tuning");
                } else {
                    fullFineTuning("use_peft: not true: TRL trains every weight, and so does this recipe");
                }
            }
            case LLAMA_FACTORY -> {
                warnings.add("finetuning_type: not given: LLaMA-Factory's default, lora");
                section("training_config").put("finetuning_type", "lora");
            }
        }
    }

    private void fullFineTuning(String warning) {
        warnings.add(warning);
        section("training_config").put("finetuning_type", "full");
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private void place(String section, String key, String written, JsonNode value) {
        ObjectNode target = section(section);
        if (target.has(key)) {
            problems.add(written + ": sets " + section + "." + key + ", which " + writtenAs(section + "." + key)
                    + " sets already");
            return;
        }
        target.set(key, value);
        writtenAs.put(section + "." + key, written);
    }

    private ObjectNode section(String name) {
        return sections.computeIfAbsent(name, ignored -> JsonNodeFactory.instance.objectNode());
    }

    private void noEffect(String key, String reason) {
        warnings.add(key + ": understood but has no effect here: " + reason);
    }

    private boolean bool(String key, JsonNode value) {
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        String text = value.asText().trim().toLowerCase(Locale.ROOT);
        if (Set.of("true", "yes", "on").contains(text)) {
            return true;
        }
        if (!Set.of("false", "no", "off").contains(text)) {
            problems.add(key + ": expected true or false, found " + describe(value));
        }
        return false;
    }

    /** {@code key:} with nothing after it, which the YAML reader gives as an empty string, or {@code key: null}. */
    private static boolean empty(JsonNode value) {
        return value.isNull() || (value.isTextual() && value.asText().isEmpty());
    }

    private static JsonNode text(String text) {
        return JsonNodeFactory.instance.textNode(text);
    }

    private static String describe(JsonNode node) {
        return node.isTextual()
                ? "\"" + node.asText() + "\""
                : node.getNodeType().name().toLowerCase(Locale.ROOT) + " " + node;
    }
}
