package dev.streamtune.events.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Gathers the quantisation keys of a recipe from everywhere users write them into one
 * {@code model_config.quantization_config}, each value remembered with the path it was written at, so that every
 * message names the key as the user wrote it.
 *
 * <ul>
 *   <li>transformers' {@code BitsAndBytesConfig} keys, flat in model_config or at the top of the recipe (Axolotl), or
 *       under {@code quantization_config} / {@code bnb_config} (either place) or Axolotl's {@code bnb_config_kwargs};</li>
 *   <li>TRL's {@code use_bnb_nested_quant}; LLaMA-Factory's {@code quantization_bit} (4 or 8),
 *       {@code quantization_type}, {@code double_quantization} and {@code quantization_method}.</li>
 * </ul>
 */
final class QuantizationKeys {

    /** Sections holding the keys. */
    static final Set<String> SECTIONS = Set.of("quantization_config", "bnb_config", "bnb_config_kwargs");

    /** Every accepted key -> the BitsAndBytesConfig key it sets. */
    private static final Map<String, String> KEYS = Map.ofEntries(
            Map.entry("load_in_4bit", "load_in_4bit"),
            Map.entry("load_in_8bit", "load_in_8bit"),
            Map.entry("bnb_4bit_quant_type", "bnb_4bit_quant_type"),
            Map.entry("bnb_4bit_use_double_quant", "bnb_4bit_use_double_quant"),
            Map.entry("bnb_4bit_compute_dtype", "bnb_4bit_compute_dtype"),
            Map.entry("use_bnb_nested_quant", "bnb_4bit_use_double_quant"),
            Map.entry("quantization_type", "bnb_4bit_quant_type"),
            Map.entry("double_quantization", "bnb_4bit_use_double_quant"),
            Map.entry("quantization_bit", "quantization_bit"),
            Map.entry("quantization_method", "quant_method"),
            Map.entry("quant_method", "quant_method"));

    /** Keys of those configs that change nothing here, with why. */
    private static final Map<String, String> IGNORED = Map.of(
            "bnb_4bit_quant_storage", "the packed 4-bit indices are always stored as uint8",
            "llm_int8_threshold", "it applies to 8-bit loading, which is not supported",
            "llm_int8_has_fp16_weight", "it applies to 8-bit loading, which is not supported",
            "llm_int8_enable_fp32_cpu_offload", "the whole model sits on one device",
            "llm_int8_skip_modules",
                    "embeddings, norms and the output head are never quantised; every other linear" + " layer is");

    private static final Set<String> DTYPES = Set.of("float32", "float16", "bfloat16");

    /** One key as written: where, and its value. */
    private record Written(String path, JsonNode value) {}

    private final Map<String, Written> settled = new LinkedHashMap<>();
    private final List<String> problems;
    private final List<String> warnings;

    /** Whether a key at a recipe's top is one of these (read there, whichever layout the recipe has). */
    static boolean handles(String key) {
        return KEYS.containsKey(key) || SECTIONS.contains(key);
    }

    /** The keys read, and the sections holding them. */
    static Set<String> keys() {
        Set<String> keys = new TreeSet<>(KEYS.keySet());
        keys.addAll(SECTIONS);
        return keys;
    }

    QuantizationKeys(List<String> problems, List<String> warnings) {
        this.problems = problems;
        this.warnings = warnings;
    }

    /** Takes the quantisation keys out of {@code section} (the top level when {@code prefix} is empty). */
    void collect(ObjectNode section, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> fields = section.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            String path = prefix + key;
            if (SECTIONS.contains(key)) {
                fields.remove();
                if (field.getValue().isObject()) {
                    field.getValue()
                            .fields()
                            .forEachRemaining(
                                    inner -> nested(path + "." + inner.getKey(), inner.getKey(), inner.getValue()));
                } else if (!field.getValue().isNull()) {
                    problems.add(path + ": expected a mapping of quantisation settings (load_in_4bit,"
                            + " bnb_4bit_quant_type...), found "
                            + field.getValue().getNodeType().name().toLowerCase(Locale.ROOT));
                }
            } else if (KEYS.containsKey(key)) {
                fields.remove();
                set(path, KEYS.get(key), field.getValue());
            }
        }
    }

    private void nested(String path, String key, JsonNode value) {
        if (KEYS.containsKey(key)) {
            set(path, KEYS.get(key), value);
        } else if (IGNORED.containsKey(key)) {
            warnings.add(path + ": understood but has no effect here: " + IGNORED.get(key));
        } else {
            warnings.add(path + ": unknown key, ignored (quantisation keys: load_in_4bit, bnb_4bit_quant_type,"
                    + " bnb_4bit_use_double_quant, bnb_4bit_compute_dtype)");
        }
    }

    private void set(String path, String key, JsonNode value) {
        if (value.isNull()) {
            return;
        }
        if (key.equals("quantization_bit")) { // LLaMA-Factory: 4 or 8
            String bits = value.asText().trim();
            if (bits.equals("4")) {
                set(path, "load_in_4bit", JsonNodeFactory.instance.booleanNode(true));
            } else if (bits.equals("8")) {
                set(path, "load_in_8bit", JsonNodeFactory.instance.booleanNode(true));
            } else {
                problems.add(path + ": expected 4 (or 8, which is not supported), found " + value);
            }
            return;
        }
        Written earlier = settled.get(key);
        if (earlier != null && !same(earlier.value(), value)) {
            problems.add(path + ": " + value + " contradicts " + earlier.path() + ": " + earlier.value());
            return;
        }
        if (earlier == null) {
            settled.put(key, new Written(path, value));
        }
    }

    private static boolean same(JsonNode a, JsonNode b) {
        return a.asText().trim().equalsIgnoreCase(b.asText().trim());
    }

    /**
     * Checks what was gathered against the recipe's method and returns {@code model_config.quantization_config}, or
     * null when the recipe has no quantisation key.
     *
     * @param method the settled finetuning_type (lora, dora, jola, full), or null
     * @param qlora  whether finetuning_type was written as qlora, which asks for the 4-bit base
     */
    ObjectNode settle(String method, boolean qlora, String methodPath) {
        if (qlora && !settled.containsKey("load_in_4bit")) {
            settled.put("load_in_4bit", new Written(methodPath, JsonNodeFactory.instance.booleanNode(true)));
        }
        if (settled.isEmpty()) {
            return null;
        }
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        Boolean fourBit = bool("load_in_4bit", config);
        Boolean eightBit = bool("load_in_8bit", config);
        if (Boolean.TRUE.equals(eightBit)) {
            problems.add(settled.get("load_in_8bit").path() + ": 8-bit loading (LLM.int8()) is not supported; use"
                    + " load_in_4bit: true (QLoRA's 4-bit NormalFloat base)");
        }
        if (qlora && Boolean.FALSE.equals(fourBit)) {
            problems.add(settled.get("load_in_4bit").path() + ": false, but " + methodPath + " is qlora, which"
                    + " trains LoRA on a 4-bit base");
        }
        Written method4 = settled.get("quant_method");
        if (method4 != null
                && !Set.of("bitsandbytes", "bnb")
                        .contains(method4.value().asText().trim().toLowerCase(Locale.ROOT))) {
            problems.add(method4.path() + ": only bitsandbytes' 4-bit quantisation is supported, found '"
                    + method4.value().asText() + "'");
        }
        text("bnb_4bit_quant_type", config, Set.of("nf4", "fp4"), QuantizationKeys::lower);
        bool("bnb_4bit_use_double_quant", config);
        text("bnb_4bit_compute_dtype", config, DTYPES, QuantizationKeys::dtype);
        boolean fourBitOn = Boolean.TRUE.equals(fourBit);
        if (!fourBitOn) {
            for (String key : List.of("bnb_4bit_quant_type", "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype")) {
                if (settled.containsKey(key)) {
                    warnings.add(settled.get(key).path() + ": has no effect without load_in_4bit: true");
                }
            }
        }
        if (fourBitOn && "full".equals(method)) {
            problems.add(settled.get("load_in_4bit").path() + ": full fine-tuning trains every weight, which a 4-bit"
                    + " base cannot hold; train lora, dora or jola on it (QLoRA), or drop load_in_4bit");
        }
        return config;
    }

    private Boolean bool(String key, ObjectNode config) {
        Written written = settled.get(key);
        if (written == null) {
            return null;
        }
        JsonNode value = written.value();
        Boolean result = null;
        if (value.isBoolean()) {
            result = value.asBoolean();
        } else {
            String text = value.asText().trim().toLowerCase(Locale.ROOT);
            if (Set.of("true", "yes", "on").contains(text)) {
                result = true;
            } else if (Set.of("false", "no", "off").contains(text)) {
                result = false;
            }
        }
        if (result == null) {
            problems.add(written.path() + ": expected true or false, found " + value);
            return null;
        }
        config.put(key, result);
        return result;
    }

    private void text(String key, ObjectNode config, Set<String> allowed, UnaryOperator<String> normal) {
        Written written = settled.get(key);
        if (written == null) {
            return;
        }
        String value = normal.apply(written.value().asText());
        if (!written.value().isValueNode() || !allowed.contains(value)) {
            problems.add(written.path() + ": expected one of "
                    + String.join(", ", allowed.stream().sorted().toList()) + ", found " + written.value());
            return;
        }
        config.put(key, value);
    }

    private static String lower(String text) {
        return text.trim().toLowerCase(Locale.ROOT);
    }

    /** torch.bfloat16, bf16, fp16, half, float, fp32... as the three dtype names. */
    private static String dtype(String text) {
        String name = lower(text);
        name = name.startsWith("torch.") ? name.substring("torch.".length()) : name;
        return switch (name) {
            case "bf16" -> "bfloat16";
            case "fp16", "half" -> "float16";
            case "fp32", "float" -> "float32";
            default -> name;
        };
    }
}
