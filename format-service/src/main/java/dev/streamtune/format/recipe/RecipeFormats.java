package dev.streamtune.format.recipe;

import dev.streamtune.events.ConfinedPath;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.RecipeTemplate;
import dev.streamtune.format.render.ExampleRenderer;
import dev.streamtune.format.render.SystemPrompt;
import dev.streamtune.format.render.TrainOn;
import dev.streamtune.format.template.ChatMlTemplate;
import dev.streamtune.format.template.ChatTemplate;
import dev.streamtune.format.template.HumanAssistantTemplate;
import dev.streamtune.format.template.InstructionTemplate;
import dev.streamtune.format.template.JinjaChatTemplate;
import dev.streamtune.format.template.JinjaLimits;
import dev.streamtune.format.template.Llama3Template;
import dev.streamtune.format.template.NamedTemplates;
import dev.streamtune.format.template.SpecialTokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Turns a recipe's {@code data_config} into a {@link RecipeFormat}, or explains why it cannot be formatted.
 *
 * <p>The template is {@code data_config.format_type} (chatml, instruction/alpaca, chat, llama3, jinja, or a
 * model's published template by name: qwen, mistral, gemma, phi3, llama2, zephyr, vicuna; see
 * {@link NamedTemplates}), or
 * {@code data_config.chat_template} when that holds a template name or Jinja source; without either, the model's
 * own chat template when its folder has one, else ChatML. BOS/EOS text and the model's chat template come from
 * {@code tokenizer_config.json} in the folder named by {@code model_config.pretrained_model_name_or_path}
 * (resolved against {@code modelRoot} when relative, and refused when it or the file leads out of that root, links
 * followed) when that folder exists here; {@code data_config.eos_token}
 * overrides the EOS. The datasets read are {@code data_config.datasets}, else the one {@code task_name} names (the
 * JoLA authors' configs), else all. The system prompt follows {@code data_config.system_prompt} and {@code system_prompt_mode}.
 */
public final class RecipeFormats {

    private static final String MODEL_PATH = "model_config.pretrained_model_name_or_path";

    private final ConfinedPath modelRoot;
    private final String templateDate;
    private final JinjaLimits jinjaLimits;

    /** Jinja templates within the {@linkplain JinjaLimits#DEFAULT default limits}. */
    public RecipeFormats(Path modelRoot, String templateDate) {
        this(modelRoot, templateDate, JinjaLimits.DEFAULT);
    }

    /**
     * @param templateDate what a Jinja template's {@code strftime_now} returns (fixed, so renders are reproducible)
     * @param jinjaLimits  the time a Jinja template's render and the renders of one conversation may take
     */
    public RecipeFormats(Path modelRoot, String templateDate, JinjaLimits jinjaLimits) {
        this.modelRoot = new ConfinedPath(modelRoot, "model root");
        this.templateDate = templateDate;
        this.jinjaLimits = jinjaLimits;
    }

    /** @throws IllegalArgumentException with a message naming the recipe field at fault */
    public RecipeFormat of(Recipe recipe) {
        DataConfig data = recipe.dataConfig();
        SpecialTokens tokens = specialTokens(recipe.modelConfig());
        if (data != null && data.eosToken() != null && !data.eosToken().isEmpty()) {
            tokens = tokens.withEos(data.eosToken());
        }
        // the same choice decides whether the vocabulary holds ChatML's tokens (dev.streamtune.lm.tokenizer.Tokenizers)
        String name = RecipeTemplate.name(data, tokens.chatTemplate());
        ChatTemplate template = template(name, data, tokens);
        Set<String> datasets = data == null ? Set.of() : data.datasetNames();
        TrainOn trainOn = TrainOn.parse(data == null ? null : data.trainOn());
        SystemPrompt systemPrompt = data == null
                ? SystemPrompt.NONE
                : new SystemPrompt(SystemPrompt.parseMode(data.systemPromptMode()), data.systemPrompt());
        return new RecipeFormat(recipe, datasets, new ExampleRenderer(recipe.id(), template, trainOn, systemPrompt));
    }

    private ChatTemplate template(String name, DataConfig data, SpecialTokens tokens) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "chatml" -> new ChatMlTemplate();
            case "llama3", "llama-3", "llama3.1" -> new Llama3Template();
            case "instruction", "alpaca" -> new InstructionTemplate(tokens.eosToken());
            case "chat", "human-assistant" -> new HumanAssistantTemplate(tokens.eosToken());
            case "jinja" -> {
                String source = RecipeTemplate.jinjaSource(data, tokens.chatTemplate());
                yield new JinjaChatTemplate(source, tokens, templateDate, jinjaLimits);
            }
            default ->
                NamedTemplates.of(name, data == null ? null : data.eosToken(), templateDate, jinjaLimits)
                        .orElseThrow(() -> new IllegalArgumentException("data_config.format_type '" + name
                                + "': expected chatml, instruction (alpaca), chat, llama3, jinja or one of "
                                + String.join(", ", NamedTemplates.names())));
        };
    }

    private SpecialTokens specialTokens(ModelConfig model) {
        if (model == null || model.pretrainedModelNameOrPath() == null) {
            return SpecialTokens.NONE;
        }
        String named = model.pretrainedModelNameOrPath();
        Path file = modelRoot.resolve(named, MODEL_PATH).resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) {
            return SpecialTokens.NONE; // a hub id, or a model this service cannot see: the recipe must say the rest
        }
        modelRoot.confine(file, named, MODEL_PATH); // the file itself may be a link out of the root
        try {
            return SpecialTokens.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + " is unreadable: " + e.getMessage(), e);
        }
    }
}
