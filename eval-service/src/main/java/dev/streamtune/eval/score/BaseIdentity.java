package dev.streamtune.eval.score;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.GenerationSettings;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.recipe.RecipeModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which base model a recipe's scores are relative to: everything of a recipe version that changes the base model's
 * own scores on the same examples, and nothing else. The model (its path under the model root; for a model built
 * from scratch, its settled shape and the seed it is drawn from), the tokenizer, the 4-bit settings of a QLoRA base,
 * the chat template (format_type, chat_template, system prompt and its mode, eos_token: they decide where a turn
 * ends, so where generation stops) and the generation settings (the seed too when sampling draws from the recipe's).
 * A version that changes only what training does (the learning rate, the epochs, the adapters' rank) has the same
 * identity, and its checkpoints are compared with the base already scored.
 *
 * @param key         a digest of {@code description}, short enough to key the base's row by
 * @param description the settings it was derived from, one per line, for logs and for a person comparing two
 */
public record BaseIdentity(String key, String description) {

    /** The identity of a recipe's base, settled by {@link RecipeModels} against {@code modelRoot}. */
    public static BaseIdentity of(Recipe recipe, RecipeModels.Base base, Path modelRoot) {
        ModelConfig model = RecipeModels.modelConfig(recipe);
        ModelSource source = base.model();
        StringBuilder description = new StringBuilder();
        if (source.path() == null) {
            // drawn at random from the recipe's seed: another seed is another model
            description
                    .append("model: from scratch ")
                    .append(source.llama())
                    .append(", seed ")
                    .append(base.seed());
        } else {
            Path root = modelRoot.toAbsolutePath().normalize();
            Path path = source.path().toAbsolutePath().normalize();
            description
                    .append("model: ")
                    .append(source.kind())
                    .append(' ')
                    .append(path.startsWith(root) ? root.relativize(path) : path);
        }
        description.append("\nquantization: ").append(base.quantization() == null ? "none" : base.quantization());
        description
                .append("\ntokenizer: ")
                .append(base.tokenizer().name())
                .append(", vocabulary ")
                .append(base.tokenizer().vocabSize())
                .append(", named ")
                .append(
                        model.tokenizer() == null
                                ? "by the model"
                                : model.tokenizer().trim());
        DataConfig data = recipe.dataConfig();
        description
                .append("\ntemplate: ")
                .append(
                        data == null
                                ? "none"
                                : "format_type " + data.formatType()
                                        + ", chat_template " + data.chatTemplate() + ", system_prompt "
                                        + data.systemPrompt()
                                        + ", system_prompt_mode " + data.systemPromptMode() + ", eos_token "
                                        + data.eosToken());
        GenerationSettings generation = recipe.generationConfig();
        description.append("\ngeneration: ").append(generation == null ? "the service's" : generation);
        if (generation != null && Boolean.TRUE.equals(generation.doSample()) && generation.seed() == null) {
            description.append(", seed ").append(RecipeModels.seed(recipe)); // sampling draws from the recipe's seed
        }
        return new BaseIdentity(digest(description.toString()), description.toString());
    }

    private static String digest(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
