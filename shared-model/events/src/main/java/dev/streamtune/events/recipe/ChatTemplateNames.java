package dev.streamtune.events.recipe;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The template names a recipe may give in {@code data_config.format_type} (or {@code data_config.chat_template}),
 * as users write them in LLaMA-Factory's {@code template:} and Axolotl's {@code chat_template:}. format-service
 * renders each (its NamedTemplates holds the same names; a test there keeps the two lists equal).
 */
public final class ChatTemplateNames {

    private ChatTemplateNames() {}

    /** Templates written in code: their own formats, or one a model family shares. */
    public static final List<String> BUILT_IN = List.of("chatml", "instruction", "alpaca", "chat", "llama3", "jinja");

    /** Templates that are a model's published chat_template, with the aliases LLaMA-Factory and Axolotl use. */
    public static final Set<String> NAMED = Set.of(
            "qwen",
            "qwen2.5",
            "qwen_25",
            "mistral",
            "mistral-v0.1",
            "gemma",
            "gemma3",
            "gemma2",
            "phi3",
            "phi",
            "phi_3",
            "llama2",
            "zephyr",
            "vicuna");

    /** Every name format_type accepts: built-in first, then named, sorted. */
    public static String[] all() {
        List<String> names = new ArrayList<>(BUILT_IN);
        NAMED.stream().sorted().forEach(names::add);
        return names.toArray(String[]::new);
    }
}
