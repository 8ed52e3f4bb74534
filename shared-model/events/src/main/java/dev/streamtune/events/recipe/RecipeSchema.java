package dev.streamtune.events.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.serde.EventJson;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The recipe's JSON Schema (draft 2020-12), made from the tables the parser reads recipes with: the sections' keys
 * and their types ({@link RecipeKeys#of}), the closed sets of values ({@link RecipeKeys#allowedValues()}), the other
 * names users know keys by, the keys accepted without effect and those of other tools that are understood and
 * ignored, each with why, and the defaults ({@link RecipeDefaults}). Editors autocomplete and check a recipe with
 * it; {@code GET /recipes/schema} serves it and docs/recipe.schema.json holds a copy.
 *
 * <p>Its keys come in a stable order (a section's own keys as its record declares them, then the other names and
 * the ignored keys sorted), so the same code always writes the same file.
 *
 * <p>It describes the sectioned layout. Like the parser, it lets unknown keys through (the parser warns about them
 * rather than refusing), so an editor marks a wrong value, not a typo in a key's name; the parser's warning names
 * the nearest key.
 */
public final class RecipeSchema {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Map<String, JsonNode> DEFAULTS = defaults();

    private RecipeSchema() {}

    public static ObjectNode jsonSchema() {
        ObjectNode schema = JSON.objectNode();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("$id", "https://streamtune.dev/schemas/recipe.schema.json");
        schema.put("title", "streamtune recipe");
        schema.put(
                "description",
                "A fine-tuning recipe: sections named as in TRL, PEFT and Hugging Face's TrainingArguments. Flat"
                        + " Axolotl, LLaMA-Factory and TRL files are also read, and placed into these sections.");
        schema.put("type", "object");
        ObjectNode properties = schema.putObject("properties");
        properties
                .putObject("id")
                .put("type", "string")
                .put("pattern", "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
                .put("description", "The recipe's id; else its name made into a slug, else a hash of its content");
        properties.putObject("name").put("type", "string");
        properties
                .putObject("schema_version")
                .put("const", Recipe.SCHEMA_VERSION)
                .put("description", "The recipe format's version");
        RecipeParser.sectionTypes().forEach((section, type) -> properties.set(section, section(section, type)));
        return schema;
    }

    private static ObjectNode section(String section, Class<? extends Record> type) {
        ObjectNode node = JSON.objectNode();
        node.put("type", "object");
        ObjectNode properties = node.putObject("properties");
        Map<String, String> withoutEffect = RecipeKeys.withoutEffect(section);
        RecipeKeys.of(type).forEach((key, javaType) -> {
            ObjectNode property = property(section + "." + key, javaType);
            if (withoutEffect.containsKey(key)) {
                property.put("description", "Accepted, has no effect here: " + withoutEffect.get(key));
                property.put("deprecated", true);
            }
            properties.set(key, property);
        });
        new TreeMap<>(RecipeKeys.aliases(section)).forEach((alias, key) -> {
            if (properties.get(key) instanceof ObjectNode target) {
                ObjectNode same = target.deepCopy();
                same.put("description", "The same setting as " + key + "; write one of them");
                properties.set(alias, same);
            }
        });
        new TreeMap<>(RecipeKeys.ignored(section))
                .forEach((key, why) -> properties
                        .putObject(key)
                        .put("description", "Understood, has no effect here: " + why)
                        .put("deprecated", true));
        return node;
    }

    private static ObjectNode property(String path, Class<?> type) {
        ObjectNode property = JSON.objectNode();
        if (type == String.class) {
            property.put("type", "string");
        } else if (type == Integer.class || type == Long.class) {
            // YAML 1.1 reads 5e-5 and the like as text, and the parser reads numbers written as strings
            property.set("type", JSON.arrayNode().add("integer").add("string"));
        } else if (type == Double.class) {
            property.set("type", JSON.arrayNode().add("number").add("string"));
        } else if (type == Boolean.class) {
            property.set("type", JSON.arrayNode().add("boolean").add("string"));
        } else if (type == TargetModules.class) {
            property.set(
                    "oneOf",
                    JSON.arrayNode()
                            .add(JSON.objectNode().put("type", "string").put("description", "a full-match regex"))
                            .add(JSON.objectNode().put("type", "array").set("items", string())));
        } else if (type == List.class && path.endsWith(".datasets")) {
            property.put("description", "A name, a list of names or of {name, weight}, or a mapping name -> weight");
            ObjectNode weighted = JSON.objectNode().put("type", "object");
            weighted.putObject("properties").set("name", string());
            ((ObjectNode) weighted.get("properties")).putObject("weight").put("type", "number");
            weighted.set("required", JSON.arrayNode().add("name"));
            property.set(
                    "oneOf",
                    JSON.arrayNode()
                            .add(string())
                            .add(JSON.objectNode()
                                    .put("type", "array")
                                    .set(
                                            "items",
                                            JSON.objectNode()
                                                    .set(
                                                            "oneOf",
                                                            JSON.arrayNode()
                                                                    .add(string())
                                                                    .add(weighted))))
                            .add(JSON.objectNode()
                                    .put("type", "object")
                                    .set(
                                            "additionalProperties",
                                            JSON.objectNode().put("type", "number"))));
        } else if (type == List.class) {
            property.set(
                    "oneOf",
                    JSON.arrayNode()
                            .add(string())
                            .add(JSON.objectNode().put("type", "array").set("items", string())));
        } else if (type.isRecord()) {
            @SuppressWarnings("unchecked")
            Class<? extends Record> nested = (Class<? extends Record>) type;
            property.put("type", "object");
            ObjectNode properties = property.putObject("properties");
            RecipeKeys.of(nested).forEach((key, javaType) -> properties.set(key, property(path + "." + key, javaType)));
        }
        List<String> allowed = RecipeKeys.allowedValues().get(path);
        if (allowed != null) {
            ArrayNode values = property.putArray("enum");
            allowed.forEach(values::add);
        }
        JsonNode byDefault = DEFAULTS.get(path);
        if (byDefault != null) {
            property.set("default", byDefault);
        }
        return property;
    }

    private static ObjectNode string() {
        return JSON.objectNode().put("type", "string");
    }

    /** RecipeDefaults' constants by the key they are the default of (those that name a plain key). */
    private static Map<String, JsonNode> defaults() {
        Map<String, JsonNode> defaults = new HashMap<>();
        for (Field field : RecipeDefaults.class.getDeclaredFields()) {
            RecipeDefaults.Key key = field.getAnnotation(RecipeDefaults.Key.class);
            if (key != null
                    && Modifier.isStatic(field.getModifiers())
                    && !key.value().contains(" ")) {
                try {
                    defaults.put(key.value(), EventJson.mapper().valueToTree(field.get(null)));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(field + " is not readable", e);
                }
            }
        }
        return defaults;
    }
}
