package dev.streamtune.events.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Which chat template a recipe renders with, decided once for the format stage (which renders it) and for the
 * vocabulary (which must hold the special tokens the template writes): {@code data_config.format_type}, else
 * {@code data_config.chat_template} (a template name, or Jinja source), else the model's own chat template when it
 * has one, else {@link RecipeDefaults#FORMAT_TYPE_WITHOUT_MODEL_TEMPLATE}.
 */
public final class RecipeTemplate {

    /** ChatML's two tokens, which GPT-2's vocabulary lacks and {@code setup_chat_format} adds. */
    public static final String IM_START = "<|im_start|>";

    public static final String IM_END = "<|im_end|>";

    private RecipeTemplate() {}

    /**
     * The template's name as the format stage knows it (chatml, instruction, alpaca, chat, llama3, jinja, ...).
     *
     * @param modelChatTemplate the model's own chat template ({@code tokenizer_config.json}), or null
     */
    public static String name(DataConfig data, String modelChatTemplate) {
        String requested = data == null ? null : firstNonBlank(data.formatType(), templateName(data.chatTemplate()));
        return requested != null
                ? requested
                : modelChatTemplate != null ? "jinja" : RecipeDefaults.FORMAT_TYPE_WITHOUT_MODEL_TEMPLATE;
    }

    /** The Jinja source a {@code jinja} template renders: the recipe's own, else the model's. */
    public static String jinjaSource(DataConfig data, String modelChatTemplate) {
        return data != null && isJinja(data.chatTemplate()) ? data.chatTemplate() : modelChatTemplate;
    }

    /**
     * Whether the recipe's rendered text holds ChatML's {@code <|im_start|>} / {@code <|im_end|>} as markup: ChatML
     * itself, a Jinja template that writes them, or an {@code eos_token} that is one of them.
     */
    public static boolean writesChatMl(DataConfig data, String modelChatTemplate) {
        if (data != null && isChatMlToken(data.eosToken())) {
            return true;
        }
        return switch (name(data, modelChatTemplate).trim().toLowerCase(Locale.ROOT)) {
            case "chatml" -> true;
            case "jinja" -> {
                String source = jinjaSource(data, modelChatTemplate);
                yield source != null && (source.contains(IM_START) || source.contains(IM_END));
            }
            default -> false; // instruction, chat and llama3 write their own markup, never ChatML's
        };
    }

    /** {@code tokenizer_config.json}'s {@code chat_template}: a string, or the one named "default" of a list. */
    public static String modelChatTemplate(JsonNode tokenizerConfig) {
        JsonNode template = tokenizerConfig.get("chat_template");
        if (template != null && template.isTextual()) {
            return template.asText();
        }
        String chatTemplate = null;
        if (template != null && template.isArray()) { // [{"name": "default", "template": ...}, ...]
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText())) {
                    chatTemplate = named.path("template").asText(null);
                }
            }
        }
        return chatTemplate;
    }

    /** Whether a chat_template value holds Jinja source rather than a template's name. */
    public static boolean isJinja(String text) {
        return text != null && (text.contains("{%") || text.contains("{{"));
    }

    private static boolean isChatMlToken(String token) {
        return token != null && (token.trim().equals(IM_START) || token.trim().equals(IM_END));
    }

    /** A chat_template value that names a template rather than holding one. */
    private static String templateName(String chatTemplate) {
        return chatTemplate == null || isJinja(chatTemplate) ? (chatTemplate == null ? null : "jinja") : chatTemplate;
    }

    private static String firstNonBlank(String a, String b) {
        return a != null && !a.isBlank() ? a : b != null && !b.isBlank() ? b : null;
    }
}
