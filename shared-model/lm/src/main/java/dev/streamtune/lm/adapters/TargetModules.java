package dev.streamtune.lm.adapters;

import java.util.List;
import java.util.regex.Pattern;

/**
 * PEFT's {@code target_modules} rules: a list entry matches a module whose full name equals it or ends with "." +
 * entry; a single string is a regular expression that must match the full name; {@code all-linear} is every linear
 * layer but the output head.
 */
public final class TargetModules {

    private final List<String> names;
    private final Pattern regex;
    private final boolean allLinear;

    private TargetModules(List<String> names, Pattern regex, boolean allLinear) {
        this.names = names;
        this.regex = regex;
        this.allLinear = allLinear;
    }

    public static TargetModules of(List<String> names) {
        return new TargetModules(List.copyOf(names), null, false);
    }

    public static TargetModules of(String regexOrAllLinear) {
        return regexOrAllLinear.equals("all-linear") ? new TargetModules(List.of(), null, true)
                : new TargetModules(List.of(), Pattern.compile(regexOrAllLinear), false);
    }

    /** @param module a linear layer's full name, such as {@code model.layers.0.self_attn.q_proj} */
    public boolean matches(String module) {
        if (allLinear) {
            return true;
        }
        if (regex != null) {
            return regex.matcher(module).matches();
        }
        return names.stream().anyMatch(name -> module.equals(name) || module.endsWith("." + name));
    }
}
