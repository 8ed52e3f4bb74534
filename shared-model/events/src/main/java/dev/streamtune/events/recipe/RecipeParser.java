package dev.streamtune.events.recipe;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.serde.EventJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads a recipe as users write it (YAML or JSON, the sections of the JoLA authors' and TRL/PEFT configs) and
 * checks it before anything runs it.
 *
 * <ul>
 *   <li>Every problem is reported at once, each with its key's path and what was expected; a recipe with problems
 *       is refused ({@link RecipeException}).</li>
 *   <li>Unknown keys are reported as warnings (with the nearest known key when one is close: a typo), and keys
 *       other tools use that have no effect here are reported with why; neither is silently dropped.</li>
 *   <li>The flat files of Axolotl, LLaMA-Factory and TRL's {@code trl sft --config} (every key at the top) are
 *       placed into sections first ({@link FlatRecipeLayout}); a file with both sections and flat keys is refused.</li>
 *   <li>Names other tools use are accepted for the same setting ({@code torch_dtype}, {@code eval_strategy},
 *       Axolotl's {@code lora_r}...), and numbers written as strings ({@code 5e-5}, which YAML 1.1 reads as a
 *       string) are read as numbers.</li>
 *   <li>The method is {@code training_config.finetuning_type} (lora, dora, jola, full); without it, the section
 *       present decides (lora_config: LoRA, or DoRA with use_dora; jola_config: JoLA). Full fine-tuning must be
 *       asked for: a recipe with neither section nor finetuning_type is refused, so that a forgotten adapter
 *       section never silently trains every weight.</li>
 *   <li>QLoRA's keys (load_in_4bit, bnb_4bit_quant_type...) are gathered from wherever users write them into
 *       {@code model_config.quantization_config} ({@link QuantizationKeys}); finetuning_type qlora is LoRA on a 4-bit
 *       base.</li>
 *   <li>The id is the recipe's {@code id}, else its {@code name} made into a slug, else {@code recipe-} and the
 *       first 12 hex digits of the SHA-256 of its canonical JSON: the same file always gets the same id.</li>
 * </ul>
 */
public final class RecipeParser {

    /** A usable recipe and what the reader should know about it. */
    public record Result(Recipe recipe, List<String> warnings) {}

    /**
     * The most characters a recipe may have. The examples have 2,000; a recipe holding a long system prompt or chat
     * template stays far below this. The bound is what keeps a request cheap: SnakeYAML's time on one long line grows
     * with the square of its length (a 256 KiB line took 2 s, 1 MiB 5 s; a 3 MiB document, its own limit, half a
     * minute).
     */
    public static final int MAX_CHARACTERS = 128 * 1024;

    /** How deeply a recipe may nest: its sections are two levels deep, a dataset list four. */
    public static final int MAX_NESTING_DEPTH = 32;

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            // a key written twice would otherwise keep its last value and drop the first without a word
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING_DEPTH)
                    .maxNumberLength(EventJson.MAX_NUMBER_LENGTH)
                    .maxStringLength(MAX_CHARACTERS)
                    .build())
            .build());
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Map<String, Class<? extends Record>> SECTIONS = sections();
    /** transformers' names for AdamW; the trainer runs one AdamW for all of them. */
    private static final List<String> ADAMW_NAMES = List.of("adamw_torch", "adamw", "adamw_hf", "adamw_torch_fused");

    private static final Set<String> TOP_LEVEL =
            Set.of("schemaVersion", "schema_version", "id", "name", "createdAt", "created_at");

    private final List<String> problems = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final FlatRecipeLayout layout = new FlatRecipeLayout(problems, warnings);
    private boolean qlora; // finetuning_type: qlora asks for LoRA on a 4-bit base

    private RecipeParser() {}

    /**
     * @param source where the text came from (a file name, "request body"), for messages
     * @throws RecipeException listing every problem
     */
    public static Result parse(String text, String source) {
        return new RecipeParser().read(text, source);
    }

    /**
     * The keys ({@code section.key}) a recipe may set that have no effect here, with why; a recipe that sets one is
     * warned. Every other key of the recipe's sections is acted on.
     */
    public static Map<String, String> acceptedWithoutEffect() {
        Map<String, String> keys = new LinkedHashMap<>();
        SECTIONS.keySet()
                .forEach(section -> RecipeKeys.withoutEffect(section)
                        .forEach((key, reason) -> keys.put(section + "." + key, reason)));
        return keys;
    }

    /** The sections a recipe has, by key, and the record each is read into. */
    static Map<String, Class<? extends Record>> sectionTypes() {
        return SECTIONS;
    }

    private static Map<String, Class<? extends Record>> sections() {
        Map<String, Class<? extends Record>> sections = new LinkedHashMap<>();
        sections.put("model_config", ModelConfig.class);
        sections.put("data_config", DataConfig.class);
        sections.put("training_config", TrainingConfig.class);
        sections.put("lora_config", LoraConfig.class);
        sections.put("jola_config", JolaConfig.class);
        sections.put("generation_config", GenerationSettings.class);
        return Collections.unmodifiableMap(sections);
    }

    /**
     * SnakeYAML's limit on a document's length, the same as ours, stated rather than left to its default (3 MiB).
     * Its alias limit is not needed: Jackson reads YAML as a stream of events and never expands an alias (it reads
     * {@code *name} as the text "name", which {@link #refuseAliases} refuses), so no alias bomb can grow.
     */
    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CHARACTERS);
        return options;
    }

    private Result read(String text, String source) {
        if (text.length() > MAX_CHARACTERS) {
            throw new RecipeException(
                    source,
                    List.of("the recipe has " + text.length() + " characters, over the limit of " + MAX_CHARACTERS
                            + "; a recipe holds settings, not data"));
        }
        JsonNode tree;
        try {
            refuseAliases(text, source);
            tree = YAML.readTree(text); // YAML 1.1 is a superset of JSON for recipes
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new RecipeException(
                    source,
                    List.of("not valid YAML or JSON"
                            + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                            + ": " + e.getOriginalMessage()));
        }
        if (tree == null || !tree.isObject()) {
            throw new RecipeException(
                    source,
                    List.of("a recipe is a mapping of sections (model_config, data_config,"
                            + " training_config, lora_config, jola_config or generation_config), found "
                            + (tree == null ? "nothing" : tree.getNodeType())));
        }
        ObjectNode root = (ObjectNode) tree.deepCopy();
        boolean flat = layout.arrange(root, TOP_LEVEL);
        QuantizationKeys quantization = new QuantizationKeys(problems, warnings);
        quantization.collect(root, "");
        if (root.get("model_config") instanceof ObjectNode modelConfig) {
            quantization.collect(modelConfig, "model_config.");
        }
        ObjectNode recipe = JsonNodeFactory.instance.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> fields = root.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            if (SECTIONS.containsKey(key)) {
                if (!field.getValue().isNull()) {
                    recipe.set(key, section(key, field.getValue()));
                }
            } else if (TOP_LEVEL.contains(key)) {
                recipe.set(
                        key.equals("schema_version") ? "schemaVersion" : key.equals("created_at") ? "createdAt" : key,
                        field.getValue());
            } else {
                unknown(key, key, flat ? FlatRecipeLayout.knownKeys() : SECTIONS.keySet());
            }
        }
        checkSchemaVersion(recipe);
        resolveMethod(recipe);
        ObjectNode quantized = quantization.settle(
                recipe.path("training_config").path("finetuning_type").asText(null),
                qlora,
                "training_config.finetuning_type");
        if (quantized != null) {
            (recipe.get("model_config") instanceof ObjectNode model ? model : recipe.putObject("model_config"))
                    .set("quantization_config", quantized);
        }
        checkValues(recipe);
        recipe.put("id", id(recipe));
        if (!problems.isEmpty()) {
            throw new RecipeException(source, problems);
        }
        try {
            return new Result(EventJson.mapper().treeToValue(recipe, Recipe.class), List.copyOf(warnings));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new RecipeException(source, List.of(e.getMessage())); // not reachable once the checks pass
        }
    }

    /**
     * A YAML alias ({@code *name}) would be read as the text "name", not the value its anchor names: a recipe that
     * uses one is refused, each alias named with its line, rather than silently misread.
     */
    private static void refuseAliases(String text, String source) throws JsonProcessingException {
        List<String> aliases = new ArrayList<>();
        try (JsonParser parser = YAML.createParser(text)) {
            while (parser.nextToken() != null) {
                if (parser instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
                    aliases.add("line " + parser.currentLocation().getLineNr() + ": the alias *" + parser.getText()
                            + " is not supported; write the value out in full");
                }
            }
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException("reading a string cannot fail", e);
        }
        if (!aliases.isEmpty()) {
            throw new RecipeException(source, aliases);
        }
    }

    /** A section with its keys checked, aliases resolved and scalars of the right kind. */
    private ObjectNode section(String name, JsonNode node) {
        ObjectNode clean = JsonNodeFactory.instance.objectNode();
        if (!node.isObject()) {
            problems.add(name + ": expected a mapping of settings, found " + kind(node));
            return clean;
        }
        Map<String, Class<?>> keys = RecipeKeys.of(SECTIONS.get(name));
        Map<String, String> aliases = RecipeKeys.aliases(name);
        Map<String, String> ignored = RecipeKeys.ignored(name);
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = aliases.getOrDefault(field.getKey(), field.getKey());
            String path = layout.writtenAs(name + "." + field.getKey());
            if (keys.containsKey(key)) {
                if (clean.has(key)) {
                    problems.add(path + ": " + key + " is given twice (under two of its names)");
                }
                JsonNode value = key.equals("datasets") && !field.getValue().isNull()
                        ? datasets(path, field.getValue())
                        : value(path, keys.get(key), field.getValue());
                if (value != null) {
                    clean.set(key, value);
                    String withoutEffect = RecipeKeys.withoutEffect(name).get(key);
                    if (withoutEffect != null) {
                        warnings.add(path + ": accepted but has no effect here: " + withoutEffect);
                    }
                }
            } else if (ignored.containsKey(field.getKey())) {
                warnings.add(path + ": understood but has no effect here: " + ignored.get(field.getKey()));
            } else {
                unknown(path, field.getKey(), keys.keySet());
            }
        }
        return clean;
    }

    /** The value as its field's type reads it, or null (with a problem recorded) when it cannot be. */
    private JsonNode value(String path, Class<?> type, JsonNode node) {
        JsonNodeFactory json = JsonNodeFactory.instance;
        if (node.isNull()) {
            return null;
        }
        if (type == String.class) {
            if (node.isValueNode()) {
                return json.textNode(node.asText());
            }
            problems.add(path + ": expected a string, found " + kind(node));
            return null;
        }
        if (type == Integer.class || type == Long.class) {
            long bound = type == Integer.class ? Integer.MAX_VALUE : Long.MAX_VALUE;
            BigDecimal whole = null;
            if (node.isNumber() && !Double.isNaN(node.asDouble()) && !Double.isInfinite(node.asDouble())) {
                whole = node.decimalValue();
            } else if (node.isTextual() && node.asText().trim().matches("-?\\d+")) {
                whole = new BigDecimal(node.asText().trim());
            }
            if (whole != null && whole.stripTrailingZeros().scale() <= 0) {
                if (whole.abs().compareTo(BigDecimal.valueOf(bound)) <= 0) {
                    return json.numberNode(whole.longValueExact());
                }
                // read as it was, a number this large would wrap around into another, silently
                problems.add(path + ": expected a whole number of at most " + bound + ", found " + describe(node));
                return null;
            }
            problems.add(path + ": expected a whole number, found " + describe(node));
            return null;
        }
        if (type == Double.class) {
            if (node.isNumber()) {
                return json.numberNode(node.asDouble());
            }
            if (node.isTextual()) {
                try {
                    return json.numberNode(Double.parseDouble(node.asText().trim()));
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            problems.add(path + ": expected a number, found " + describe(node));
            return null;
        }
        if (type == Boolean.class) {
            if (node.isBoolean()) {
                return node;
            }
            String text = node.asText().trim().toLowerCase(Locale.ROOT);
            if (node.isTextual()
                    && Set.of("true", "yes", "on", "false", "no", "off").contains(text)) {
                return json.booleanNode(Set.of("true", "yes", "on").contains(text));
            }
            problems.add(path + ": expected true or false, found " + describe(node));
            return null;
        }
        if (type == TargetModules.class) {
            if (node.isTextual() || (node.isArray() && allText(node))) {
                return node;
            }
            problems.add(path + ": expected a module name regex or a list of module names, found " + describe(node));
            return null;
        }
        if (type == SchedulerKwargs.class) {
            return schedulerKwargs(path, node);
        }
        if (type == List.class && path.endsWith("datasets")) {
            return datasets(path, node);
        }
        if (type == List.class) { // lists of strings (modules_to_save)
            if (node.isTextual()) {
                return json.arrayNode().add(node.asText());
            }
            if (node.isArray() && allText(node)) {
                return node;
            }
            problems.add(path + ": expected a list of names, found " + describe(node));
            return null;
        }
        return node;
    }

    /**
     * lr_scheduler_kwargs: a mapping, or the JSON text transformers' command line takes; its keys checked like a
     * section's.
     */
    private JsonNode schedulerKwargs(String path, JsonNode node) {
        JsonNode mapping = node;
        if (node.isTextual()) {
            try {
                mapping = YAML.readTree(node.asText());
            } catch (JsonProcessingException e) {
                problems.add(path + ": expected a mapping of the scheduler's arguments (or its JSON text), found "
                        + describe(node));
                return null;
            }
        }
        if (mapping == null || !mapping.isObject()) {
            problems.add(path + ": expected a mapping of the scheduler's arguments, found " + describe(node));
            return null;
        }
        Map<String, Class<?>> keys = RecipeKeys.of(SchedulerKwargs.class);
        ObjectNode clean = JsonNodeFactory.instance.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> fields = mapping.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (keys.containsKey(field.getKey())) {
                JsonNode value = value(path + "." + field.getKey(), keys.get(field.getKey()), field.getValue());
                if (value != null) {
                    clean.set(field.getKey(), value);
                }
            } else {
                unknown(path + "." + field.getKey(), field.getKey(), keys.keySet());
            }
        }
        return clean;
    }

    /** datasets: a name, a list of names or of {name, weight}, or a mapping name -> weight. */
    private JsonNode datasets(String path, JsonNode node) {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        if (node.isTextual()) {
            list.addObject().put("name", node.asText());
        } else if (node.isObject()) {
            node.fields().forEachRemaining(entry -> {
                ObjectNode dataset = list.addObject().put("name", entry.getKey());
                JsonNode weight = value(path + "." + entry.getKey(), Double.class, entry.getValue());
                if (weight != null) {
                    dataset.set("weight", weight);
                }
            });
        } else if (node.isArray()) {
            int index = 0;
            for (JsonNode entry : node) {
                String at = path + "[" + index++ + "]";
                if (entry.isTextual()) {
                    list.addObject().put("name", entry.asText());
                } else if (entry.isObject() && entry.hasNonNull("name")) {
                    ObjectNode dataset =
                            list.addObject().put("name", entry.get("name").asText());
                    if (entry.has("weight")) {
                        JsonNode weight = value(at + ".weight", Double.class, entry.get("weight"));
                        if (weight != null) {
                            dataset.set("weight", weight);
                        }
                    }
                    entry.fieldNames().forEachRemaining(key -> {
                        if (!key.equals("name") && !key.equals("weight")) {
                            unknown(at + "." + key, key, Set.of("name", "weight"));
                        }
                    });
                } else {
                    problems.add(at + ": expected a dataset name or {name, weight}, found " + describe(entry));
                }
            }
        } else {
            problems.add(path + ": expected dataset names (a list, or a mapping of name to weight), found "
                    + describe(node));
        }
        return list;
    }

    private void checkSchemaVersion(ObjectNode recipe) {
        JsonNode version = recipe.get("schemaVersion");
        if (version == null || version.isNull()) {
            recipe.put("schemaVersion", Recipe.SCHEMA_VERSION);
        } else if (!version.canConvertToInt() || version.asInt() != Recipe.SCHEMA_VERSION) {
            problems.add("schema_version: this platform reads recipes of schema version " + Recipe.SCHEMA_VERSION
                    + ", found " + describe(version));
        }
    }

    /** Settles lora / dora / jola / full, as described on the class. */
    private void resolveMethod(ObjectNode recipe) {
        ObjectNode training = recipe.has("training_config")
                ? (ObjectNode) recipe.get("training_config")
                : recipe.putObject("training_config");
        boolean lora = recipe.has("lora_config");
        boolean jola = recipe.has("jola_config");
        String requested = training.path("finetuning_type").asText(null);
        if (requested == null) {
            if (lora && jola) {
                problems.add("lora_config and jola_config are both given: a recipe trains with one method"
                        + " (say which with training_config.finetuning_type)");
                return;
            }
            if (!lora && !jola) {
                problems.add("training_config.finetuning_type: no lora_config or jola_config, so say which method to"
                        + " use: finetuning_type: full trains every weight; lora, dora or jola train adapters");
                return;
            }
            requested =
                    lora ? (recipe.path("lora_config").path("use_dora").asBoolean(false) ? "dora" : "lora") : "jola";
        }
        qlora = requested.trim().equalsIgnoreCase("qlora");
        String method = qlora ? "lora" : requested.trim().toLowerCase(Locale.ROOT);
        switch (method) {
            case "lora", "dora" -> {
                if (jola) {
                    problems.add("jola_config: given with finetuning_type " + method + "; remove one of them");
                }
                ObjectNode loraConfig = lora ? (ObjectNode) recipe.get("lora_config") : recipe.putObject("lora_config");
                if (method.equals("dora")) {
                    if (loraConfig.has("use_dora")
                            && !loraConfig.get("use_dora").asBoolean()) {
                        problems.add("lora_config.use_dora: false contradicts finetuning_type dora");
                    }
                    loraConfig.put("use_dora", true);
                }
            }
            case "jola" -> {
                if (lora) {
                    problems.add("lora_config: given with finetuning_type jola; remove one of them");
                }
                if (!jola) {
                    recipe.putObject("jola_config");
                }
            }
            case "full" -> {
                if (lora || jola) {
                    problems.add((lora ? "lora_config" : "jola_config") + ": given with finetuning_type full, which"
                            + " trains every weight; remove the section or choose its method");
                }
            }
            default ->
                problems.add("training_config.finetuning_type: expected lora, qlora, dora, jola or full, found '"
                        + requested + "'");
        }
        training.put("finetuning_type", method);
    }

    private void checkValues(ObjectNode recipe) {
        JsonNode data = recipe.path("data_config");
        oneOf(data, "data_config", "format_type");
        oneOf(data, "data_config", "train_on");
        oneOf(data, "data_config", "system_prompt_mode");
        oneOf(data, "data_config", "truncation");
        positive(data, "data_config", "max_seq_length");
        for (String size : List.of("train_size", "valid_size", "test_size")) {
            atLeast(data, "data_config", size, 0);
        }
        double ratios = 0;
        boolean fractions = true;
        for (String ratio : List.of("valid_ratio", "test_ratio")) {
            if (data.has(ratio)) {
                double value = data.get(ratio).asDouble();
                if (ratio.equals("valid_ratio") && value >= 1 && value == Math.rint(value)) {
                    // Axolotl's val_set_size and LLaMA-Factory's val_size also take a count: "the first N" of a
                    // stream is never known, so only a fraction is carved (tokenize-service's RecipeSplit)
                    problems.add(String.format(
                            Locale.ROOT,
                            "data_config.valid_ratio (val_set_size, val_size): %d is a count of examples; a recipe"
                                    + " carves its validation set from the stream by a fraction (e.g. 0.05), and"
                                    + " data_config.valid_size bounds how many of them are evaluated",
                            (long) value));
                    fractions = false;
                } else if (!(value >= 0 && value < 1)) {
                    problems.add("data_config." + ratio + ": expected a fraction in [0, 1), found " + value);
                    fractions = false;
                }
                ratios += value;
            }
        }
        if (fractions && ratios >= 1) {
            problems.add("data_config: valid_ratio + test_ratio = " + ratios + " leaves nothing to train on");
        }
        if ("override".equals(data.path("system_prompt_mode").asText(null)) && !data.hasNonNull("system_prompt")) {
            problems.add("data_config.system_prompt_mode: override needs data_config.system_prompt");
        }
        for (JsonNode dataset : data.path("datasets")) {
            if (dataset.has("weight") && !(dataset.get("weight").asDouble() > 0)) {
                problems.add("data_config.datasets." + dataset.path("name").asText()
                        + ": weight must be positive, found " + dataset.get("weight"));
            }
        }

        JsonNode training = recipe.path("training_config");
        positive(training, "training_config", "learning_rate");
        if ("reduce_lr_on_plateau".equals(training.path("lr_scheduler_type").asText(null))) {
            problems.add("training_config.lr_scheduler_type: reduce_lr_on_plateau lowers the rate when evaluations"
                    + " stall, and evaluations reach the trainer here asynchronously from eval-service, so it is not"
                    + " supported; early_stopping_patience ends a run that stalls");
        } else {
            oneOf(training, "training_config", "lr_scheduler_type");
        }
        oneOf(training, "training_config", "loss_normalization");
        optimizer(training);
        if (training.has("warmup_ratio")
                && !(training.get("warmup_ratio").asDouble() >= 0
                        && training.get("warmup_ratio").asDouble() < 1)) {
            problems.add("training_config.warmup_ratio: expected a fraction in [0, 1), found "
                    + training.get("warmup_ratio"));
        }
        for (String count : List.of(
                "per_device_train_batch_size",
                "per_device_eval_batch_size",
                "gradient_accumulation_steps",
                "max_steps",
                "eval_steps",
                "save_steps",
                "save_total_limit",
                "early_stopping_patience")) {
            positive(training, "training_config", count);
        }
        positive(training, "training_config", "num_train_epochs");
        positive(training, "training_config", "max_grad_norm");
        atLeast(training, "training_config", "weight_decay", 0);
        atLeast(training, "training_config", "warmup_steps", 0);

        oneOf(training, "training_config", "on_bad_batch");
        intervalStrategy(training, "save_strategy");
        intervalStrategy(training, "evaluation_strategy");

        JsonNode model = recipe.path("model_config");
        oneOf(model, "model_config", "dtype");
        for (String size : List.of(
                "hidden_size",
                "intermediate_size",
                "num_hidden_layers",
                "num_attention_heads",
                "num_key_value_heads",
                "max_position_embeddings")) {
            positive(model, "model_config", size);
        }
        oneOf(model, "model_config", "applied_module");

        JsonNode lora = recipe.path("lora_config");
        positive(lora, "lora_config", "r");
        positive(lora, "lora_config", "lora_alpha");
        if (lora.has("lora_dropout")
                && !(lora.get("lora_dropout").asDouble() >= 0
                        && lora.get("lora_dropout").asDouble() < 1)) {
            problems.add(
                    "lora_config.lora_dropout: expected a probability in [0, 1), found " + lora.get("lora_dropout"));
        }
        oneOf(lora, "lora_config", "bias");

        JsonNode jola = recipe.path("jola_config");
        atLeast(jola, "jola_config", "gate_lambda", 0);
        oneOf(jola, "jola_config", "gate_scheduler");
        oneOf(jola, "jola_config", "penalty");

        JsonNode generation = recipe.path("generation_config");
        positive(generation, "generation_config", "max_new_tokens");
        atMost(generation, "generation_config", "max_new_tokens", GenerationSettings.MAX_NEW_TOKENS_LIMIT);
        atLeast(generation, "generation_config", "num_samples", 0);
        atLeast(generation, "generation_config", "temperature", 0);
        atLeast(generation, "generation_config", "top_k", 0);
        positive(generation, "generation_config", "repetition_penalty");
        if (generation.has("top_p")
                && !(generation.get("top_p").asDouble() > 0
                        && generation.get("top_p").asDouble() <= 1)) {
            problems.add("generation_config.top_p: expected a probability in (0, 1], found " + generation.get("top_p"));
        }
    }

    private String id(ObjectNode recipe) {
        JsonNode given = recipe.get("id");
        if (given != null && !given.isNull()) {
            if (!ID.matcher(given.asText()).matches()) {
                problems.add("id: '" + given.asText() + "' must be 1-100 letters, digits, '.', '_' or '-' (it names"
                        + " Kafka keys and consumer groups)");
            }
            return given.asText();
        }
        String name = recipe.path("name").asText("");
        String slug =
                name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-").replaceAll("^[-._]+|[-._]+$", "");
        if (!slug.isEmpty()) {
            return slug.length() > 100 ? slug.substring(0, 100) : slug;
        }
        try {
            byte[] canonical =
                    EventJson.mapper().writeValueAsString(sorted(recipe)).getBytes(StandardCharsets.UTF_8);
            return "recipe-"
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(canonical))
                            .substring(0, 12);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (!node.isObject()) {
            return node;
        }
        ObjectNode sorted = JsonNodeFactory.instance.objectNode();
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        names.stream().sorted().forEach(name -> sorted.set(name, sorted(node.get(name))));
        return sorted;
    }

    /**
     * {@code optim}: the AdamW names transformers accepts all run the trainer's AdamW. bitsandbytes' 8-bit and paged
     * AdamW are the same update with its state stored smaller, so they run as adamw_torch (said, with what it costs).
     * The other optimisers users name are refused with why and what comes closest, never silently replaced.
     */
    private void optimizer(JsonNode training) {
        String optim = training.path("optim").asText(null);
        if (optim == null) {
            return;
        }
        String name = optim.trim().toLowerCase(Locale.ROOT);
        if (ADAMW_NAMES.contains(name)) {
            return;
        }
        if (name.startsWith("paged_adamw") || (name.startsWith("adamw") && name.matches(".*(8bit|4bit|bnb).*"))) {
            warnings.add("training_config.optim: " + optim + " is read as adamw_torch: the same AdamW update, its"
                    + " state kept in float32 and in memory (bitsandbytes' 8-bit and paged states are CUDA kernels"
                    + " this trainer does not have), so the state takes 4x the memory of 8-bit");
            ((ObjectNode) training).put("optim", "adamw_torch");
            return;
        }
        String why;
        if (name.startsWith("adafactor")) {
            why = "Adafactor is not implemented; adamw_torch is the nearest (Adafactor factors AdamW's second"
                    + " moment to save memory)";
        } else if (name.contains("lion")) {
            why = "Lion is not implemented; adamw_torch is the nearest supported choice (with a learning rate 3-10x"
                    + " larger than Lion's)";
        } else if (name.contains("8bit") || name.contains("bnb")) {
            why = "bitsandbytes' optimisers other than AdamW are not implemented; adamw_torch is the nearest";
        } else {
            why = "not an optimiser this trainer has; it runs AdamW (" + String.join(", ", ADAMW_NAMES) + ")";
        }
        problems.add("training_config.optim: '" + optim + "': " + why);
    }

    /** A key whose values are a closed set, as {@link RecipeKeys#allowedValues()} lists it. */
    private void oneOf(JsonNode section, String name, String key) {
        oneOf(
                section,
                name,
                key,
                RecipeKeys.allowedValues().get(name + "." + key).toArray(String[]::new));
    }

    private void oneOf(JsonNode section, String name, String key, String... allowed) {
        JsonNode value = section.get(key);
        if (value != null && !value.isNull()) {
            String text = value.asText().trim().toLowerCase(Locale.ROOT);
            if (!List.of(allowed).contains(text)) {
                problems.add(name + "." + key + ": expected one of " + String.join(", ", allowed) + ", found '"
                        + value.asText() + "'");
            }
        }
    }

    /**
     * Hugging Face's IntervalStrategy (no, steps, epoch), written in lower case. YAML 1.1 reads an unquoted
     * {@code no} as the boolean false, whose text is "false": that is the strategy no.
     */
    private void intervalStrategy(JsonNode training, String key) {
        if (training instanceof ObjectNode section && section.hasNonNull(key)) {
            String value = section.get(key).asText().trim().toLowerCase(Locale.ROOT);
            section.put(key, value.equals("false") ? "no" : value);
            oneOf(section, "training_config", key);
        }
    }

    private void positive(JsonNode section, String name, String key) {
        JsonNode value = section.get(key);
        if (value != null && value.isNumber() && !(value.asDouble() > 0)) {
            problems.add(name + "." + key + ": must be positive, found " + value);
        }
    }

    private void atLeast(JsonNode section, String name, String key, double minimum) {
        JsonNode value = section.get(key);
        if (value != null && value.isNumber() && value.asDouble() < minimum) {
            problems.add(name + "." + key + ": must be at least " + (long) minimum + ", found " + value);
        }
    }

    private void atMost(JsonNode section, String name, String key, long maximum) {
        JsonNode value = section.get(key);
        if (value != null && value.isNumber() && value.asDouble() > maximum) {
            problems.add(name + "." + key + ": must be at most " + maximum + ", found " + value);
        }
    }

    private void unknown(String path, String key, Iterable<String> known) {
        String nearest = null;
        int best = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(key, candidate);
            if (distance < best) {
                best = distance;
                nearest = candidate;
            }
        }
        boolean close = nearest != null && best <= Math.max(1, Math.min(3, key.length() / 3));
        warnings.add(path + ": unknown key, ignored" + (close ? " (did you mean " + nearest + "?)" : ""));
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static boolean allText(JsonNode array) {
        for (JsonNode element : array) {
            if (!element.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static String kind(JsonNode node) {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String describe(JsonNode node) {
        return node.isTextual() ? "\"" + node.asText() + "\"" : kind(node) + " " + node;
    }
}
