package dev.streamtune.ingest.format;

import dev.streamtune.events.Role;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The speaker names of every dialect, mapped onto the four normalised roles. Matching ignores case. Overrides
 * ({@code narrator=assistant}) extend or replace the defaults.
 */
public final class RoleNames {

    private static final Map<String, Role> DEFAULTS = defaults();

    public static final RoleNames DEFAULT = new RoleNames(DEFAULTS);

    private final Map<String, Role> roleByName;

    private RoleNames(Map<String, Role> roleByName) {
        this.roleByName = Map.copyOf(roleByName);
    }

    private static Map<String, Role> defaults() {
        Map<String, Role> names = new LinkedHashMap<>();
        for (String name : List.of("system", "developer")) {
            names.put(name, Role.SYSTEM);
        }
        // ShareGPT says human, OpenAI user, OASST prompter.
        for (String name : List.of("user", "human", "prompter")) {
            names.put(name, Role.USER);
        }
        // ShareGPT says gpt (sometimes chatgpt or bing); LLaMA-Factory's function_call is an assistant turn.
        for (String name : List.of("assistant", "gpt", "chatgpt", "bing", "bard", "bot", "model", "function_call")) {
            names.put(name, Role.ASSISTANT);
        }
        // OpenAI tool/function results, LLaMA-Factory's observation, Llama 3's ipython.
        for (String name : List.of("tool", "function", "observation", "ipython")) {
            names.put(name, Role.TOOL);
        }
        return names;
    }

    /** Parses overrides of the form {@code name=role}, role being system, user, assistant or tool. */
    public static RoleNames withOverrides(List<String> overrides) {
        if (overrides.isEmpty()) {
            return DEFAULT;
        }
        Map<String, Role> names = new LinkedHashMap<>(DEFAULTS);
        for (String override : overrides) {
            int equals = override.indexOf('=');
            if (equals <= 0 || equals == override.length() - 1) {
                throw new IllegalArgumentException(
                        "role mapping '" + override + "' must be name=role, e.g. narrator=assistant");
            }
            String name = override.substring(0, equals).trim().toLowerCase(Locale.ROOT);
            String role = override.substring(equals + 1).trim().toLowerCase(Locale.ROOT);
            try {
                names.put(name, Role.fromWireName(role));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("role mapping '" + override + "': " + e.getMessage());
            }
        }
        return new RoleNames(names);
    }

    public Role resolve(String field, String name) throws RecordException {
        Role role = roleByName.get(name.trim().toLowerCase(Locale.ROOT));
        if (role == null) {
            throw new RecordException(
                    field,
                    "field '" + field + "': unknown role '" + name + "'; expected one of "
                            + String.join(", ", new TreeSet<>(roleByName.keySet()))
                            + " (or map it, e.g. role=" + name + "=assistant)");
        }
        return role;
    }
}
