package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * PEFT's {@code target_modules}: either a list of module names (a module matches when its full name equals an
 * entry or ends with "." + entry) or a single string, which PEFT treats as a full-match regular expression
 * ({@code "all-linear"} being the one special string: every linear layer but the output head). The recipe's
 * value and the rule the adapters apply to a model's modules.
 */
public record TargetModules(List<String> names, String regex) {

    public TargetModules {
        names = names == null ? null : List.copyOf(names);
        if ((names == null) == (regex == null)) {
            throw new IllegalArgumentException("target_modules is either a list of names or one regex string");
        }
    }

    public static TargetModules of(List<String> names) {
        return new TargetModules(names, null);
    }

    /** @throws java.util.regex.PatternSyntaxException when the string is not a valid regular expression */
    public static TargetModules of(String regexOrAllLinear) {
        if (!regexOrAllLinear.equals("all-linear")) {
            Pattern.compile(regexOrAllLinear); // a file that lies is refused on reading, not when first matched
        }
        return new TargetModules(null, regexOrAllLinear);
    }

    /**
     * @param module a linear layer's full name, such as {@code model.layers.0.self_attn.q_proj}
     * @throws java.util.regex.PatternSyntaxException when the regex is not a valid regular expression
     */
    public boolean matches(String module) {
        if (regex != null) {
            return regex.equals("all-linear")
                    || Pattern.compile(regex).matcher(module).matches();
        }
        return names.stream().anyMatch(name -> module.equals(name) || module.endsWith("." + name));
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
