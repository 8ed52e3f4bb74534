package dev.streamtune.format.render;

import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.recipe.RecipeDefaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a rendered conversation's system prompt comes from: the conversation's own, else the recipe's default,
 * else none ({@link Mode#DEFAULT}); or always the recipe's ({@link Mode#OVERRIDE}); or never ({@link Mode#DROP}).
 */
public record SystemPrompt(Mode mode, String text) {

    public enum Mode {
        DEFAULT,
        OVERRIDE,
        DROP
    }

    public static final SystemPrompt NONE = new SystemPrompt(Mode.DEFAULT, null);

    public SystemPrompt {
        if (mode == Mode.OVERRIDE && (text == null || text.isEmpty())) {
            throw new IllegalArgumentException("system prompt mode override needs data_config.system_prompt");
        }
    }

    public static Mode parseMode(String value) {
        if (value == null || value.isBlank()) {
            return parseMode(RecipeDefaults.SYSTEM_PROMPT_MODE);
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "default", "keep" -> Mode.DEFAULT;
            case "override", "replace" -> Mode.OVERRIDE;
            case "drop", "none" -> Mode.DROP;
            default ->
                throw new IllegalArgumentException(
                        "system prompt mode '" + value + "': expected default, override or drop");
        };
    }

    /** The messages to render: the conversation's own system messages replaced, kept or removed. */
    public List<Message> apply(List<Message> messages) {
        boolean hasOwn = !messages.isEmpty() && messages.get(0).role() == Role.SYSTEM;
        List<Message> rest = hasOwn ? messages.subList(1, messages.size()) : messages;
        List<Message> result = new ArrayList<>();
        switch (mode) {
            case DEFAULT -> {
                if (hasOwn) {
                    result.add(messages.get(0));
                } else if (text != null && !text.isEmpty()) {
                    result.add(Message.system(text));
                }
            }
            case OVERRIDE -> result.add(Message.system(text));
            case DROP -> {}
        }
        result.addAll(rest);
        return result;
    }
}
