package dev.streamtune.testing;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.RecipeParser;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A recipe for a test, written as users write it: block-style YAML, one section after another in the order they
 * were first given, each key in the order it was given. Tests post the text ({@link #yaml()}) where the service's
 * reading of YAML is part of what they cover, or the parsed recipe ({@link #parse(String)}) where it is not.
 *
 * <p>Values are written as given: a list as a flow sequence ({@code [q_proj, v_proj]}), a map as a flow mapping, a
 * double in plain decimals ({@code 0.0004}, never Java's {@code 4.0E-4}), anything else by its {@code toString()}
 * (so {@code "5e-3"} stays {@code 5e-3}). Nothing is quoted.
 */
public final class RecipeYaml {

    /** The stories260K model of ../shared, as a recipe names it under a model root holding stories260K/. */
    public static final String STORIES260K = "stories260K/stories260K.bin";

    private final Map<String, Object> top = new LinkedHashMap<>();
    private final Map<String, Map<String, Object>> sections = new LinkedHashMap<>();

    private RecipeYaml() {}

    /** A recipe with an {@code id:}. */
    public static RecipeYaml withId(String id) {
        RecipeYaml recipe = new RecipeYaml();
        recipe.top.put("id", id);
        return recipe;
    }

    /** A recipe with only a {@code name:} (its id is derived from it). */
    public static RecipeYaml named(String name) {
        RecipeYaml recipe = new RecipeYaml();
        recipe.top.put("name", name);
        return recipe;
    }

    /** A LoRA-or-other recipe's base: stories260K with its own tokenizer. */
    public RecipeYaml stories260K() {
        return model("pretrained_model_name_or_path", STORIES260K).model("tokenizer", "stories260K");
    }

    public RecipeYaml model(String key, Object value) {
        return set("model_config", key, value);
    }

    public RecipeYaml data(String key, Object value) {
        return set("data_config", key, value);
    }

    public RecipeYaml training(String key, Object value) {
        return set("training_config", key, value);
    }

    public RecipeYaml lora(String key, Object value) {
        return set("lora_config", key, value);
    }

    public RecipeYaml jola(String key, Object value) {
        return set("jola_config", key, value);
    }

    public RecipeYaml generation(String key, Object value) {
        return set("generation_config", key, value);
    }

    /** A key of any section (one the recipe format may gain, or one a test means to be refused). */
    public RecipeYaml set(String section, String key, Object value) {
        sections.computeIfAbsent(section, s -> new LinkedHashMap<>()).put(key, value);
        return this;
    }

    /** The recipe's text. */
    public String yaml() {
        StringBuilder yaml = new StringBuilder();
        top.forEach((key, value) ->
                yaml.append(key).append(": ").append(scalar(value)).append('\n'));
        sections.forEach((section, keys) -> {
            yaml.append(section).append(":\n");
            keys.forEach((key, value) -> yaml.append("  ")
                    .append(key)
                    .append(": ")
                    .append(scalar(value))
                    .append('\n'));
        });
        return yaml.toString();
    }

    /** The recipe as the services' parser reads it; {@code source} names it in any error. */
    public Recipe parse(String source) {
        return RecipeParser.parse(yaml(), source).recipe();
    }

    @Override
    public String toString() {
        return yaml();
    }

    private static String scalar(Object value) {
        if (value instanceof List<?> list) {
            return list.stream().map(RecipeYaml::scalar).collect(Collectors.joining(", ", "[", "]"));
        }
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream()
                    .map(e -> e.getKey() + ": " + scalar(e.getValue()))
                    .collect(Collectors.joining(", ", "{", "}"));
        }
        if (value instanceof Double || value instanceof Float) {
            BigDecimal decimal =
                    BigDecimal.valueOf(((Number) value).doubleValue()).stripTrailingZeros();
            // a whole number keeps its ".0", or YAML would read an integer
            return decimal.scale() > 0 ? decimal.toPlainString() : decimal.toPlainString() + ".0";
        }
        return String.valueOf(value);
    }
}
