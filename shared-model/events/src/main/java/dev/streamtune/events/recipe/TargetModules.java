package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.ArrayList;
import java.util.List;

/**
 * PEFT's {@code target_modules}: either a list of module names (a module matches when its full name equals an
 * entry or ends with "." + entry) or a single string, which PEFT treats as a full-match regular expression
 * ({@code "all-linear"} being the one special string).
 */
public record TargetModules(List<String> names, String regex) {

    public TargetModules {
        names = names == null ? null : List.copyOf(names);
        if ((names == null) == (regex == null)) {
            throw new IllegalArgumentException("target_modules is either a list of names or one regex string");
        }
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static TargetModules fromJson(JsonNode node) {
        if (node.isTextual()) {
            return new TargetModules(null, node.asText());
        }
        if (node.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode entry : node) {
                if (!entry.isTextual()) {
                    throw new IllegalArgumentException("target_modules entries must be strings, found " + entry);
                }
                names.add(entry.asText());
            }
            return new TargetModules(names, null);
        }
        throw new IllegalArgumentException("target_modules must be a list of module names or a regex string, found "
                + node.getNodeType().name().toLowerCase());
    }

    @JsonValue
    public JsonNode toJson() {
        if (regex != null) {
            return JsonNodeFactory.instance.textNode(regex);
        }
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        names.forEach(array::add);
        return array;
    }
}
