package dev.streamtune.format.template;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chat templates by the names users write in recipes (LLaMA-Factory's {@code template:}, Axolotl's
 * {@code chat_template:}): each is its model's published Jinja {@code chat_template}, shipped as a resource under
 * {@code /chat-templates/} and rendered by {@link JinjaChatTemplate}, so a named template and the same model's own
 * template through {@code format_type: jinja} render the same text by construction. Each renders with the BOS and
 * EOS its model's tokenizer_config.json gives them; {@code data_config.eos_token} overrides the EOS.
 *
 * <ul>
 *   <li>{@code qwen}: Qwen2.5-Instruct (ChatML; without a system message, Qwen2.5's default "You are Qwen, created
 *       by Alibaba Cloud. You are a helpful assistant." — Qwen2-Instruct's default is "You are a helpful
 *       assistant.", so for Qwen2 models give the system prompt explicitly or use {@code chatml}).
 *   <li>{@code mistral}: Mistral-7B-Instruct-v0.2 (and Mixtral-8x7B-Instruct-v0.1) as now published: a system
 *       message is folded into the first user turn, {@code [INST] system\n\nuser [/INST]}. v0.3's template puts the
 *       system message in the last user turn only, so a conversation's earlier text changes as it grows; it is not
 *       offered.
 *   <li>{@code mistral-v0.1}: Mistral-7B-Instruct-v0.1 as first published: refuses a system message.
 *   <li>{@code gemma}: Gemma 3 it: role {@code model}, a system message folded into the first user turn. Without a
 *       system message it renders what {@code gemma2} renders.
 *   <li>{@code gemma2}: gemma-2-it: refuses a system message ("System role not supported").
 *   <li>{@code phi3}: Phi-3-mini-4k-instruct ({@code <|system|>}, {@code <|user|>}, {@code <|assistant|>},
 *       {@code <|end|>}, and EOS after the last turn when no generation prompt follows).
 *   <li>{@code llama2}: Llama-2-chat ({@code <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n ... [/INST] answer </s>}).
 *   <li>{@code zephyr}: zephyr-7b-beta ({@code </s>} after every turn).
 *   <li>{@code vicuna}: Vicuna v1.1 as FastChat defines it (Vicuna publishes no chat_template).
 * </ul>
 */
public final class NamedTemplates {

    private record Family(String resource, String bos, String eos) {}

    private static final Family QWEN = new Family("qwen.jinja", null, "<|im_end|>");
    private static final Family GEMMA = new Family("gemma.jinja", "<bos>", "<eos>");
    private static final Family PHI3 = new Family("phi3.jinja", "<s>", "<|endoftext|>");

    private static final Map<String, Family> FAMILIES = Map.ofEntries(
            Map.entry("qwen", QWEN),
            Map.entry("qwen2.5", QWEN),
            Map.entry("qwen_25", QWEN), // Axolotl
            Map.entry("mistral", new Family("mistral.jinja", "<s>", "</s>")),
            Map.entry("mistral-v0.1", new Family("mistral-v0.1.jinja", "<s>", "</s>")),
            Map.entry("gemma", GEMMA),
            Map.entry("gemma3", GEMMA),
            Map.entry("gemma2", new Family("gemma2.jinja", "<bos>", "<eos>")),
            Map.entry("phi3", PHI3),
            Map.entry("phi", PHI3), // LLaMA-Factory
            Map.entry("phi_3", PHI3), // Axolotl
            Map.entry("llama2", new Family("llama2.jinja", "<s>", "</s>")),
            Map.entry("zephyr", new Family("zephyr.jinja", "<s>", "</s>")),
            Map.entry("vicuna", new Family("vicuna.jinja", "<s>", "</s>")));

    private NamedTemplates() {}

    /** The names, sorted, for error messages and documentation (the recipe parser's ChatTemplateNames.NAMED). */
    public static Set<String> names() {
        return new TreeSet<>(FAMILIES.keySet());
    }

    /**
     * @param eosOverride {@code data_config.eos_token}, or null to keep the model's
     * @param date        what {@code strftime_now} returns
     * @return the template, or empty when no template has this name
     */
    public static Optional<JinjaChatTemplate> of(String name, String eosOverride, String date, JinjaLimits limits) {
        String key = name.trim().toLowerCase(Locale.ROOT);
        Family family = FAMILIES.get(key);
        if (family == null) {
            return Optional.empty();
        }
        String eos = eosOverride != null && !eosOverride.isEmpty() ? eosOverride : family.eos();
        SpecialTokens tokens = new SpecialTokens(family.bos(), eos, null);
        return Optional.of(new JinjaChatTemplate(key, source(family.resource()), tokens, date, limits));
    }

    private static String source(String resource) {
        String path = "/chat-templates/" + resource;
        try (InputStream in = NamedTemplates.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the format-service jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(path + " is unreadable: " + e.getMessage(), e);
        }
    }
}
