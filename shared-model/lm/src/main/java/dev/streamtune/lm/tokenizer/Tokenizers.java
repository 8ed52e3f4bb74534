package dev.streamtune.lm.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.ConfinedPath;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.RecipeTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The tokenizer a recipe names, and so its vocabulary: every service that tokenizes for a recipe (tokenize, trainer,
 * eval) asks {@link #of(Recipe)}, so they agree on it. {@code model_config.tokenizer} may be a tiktoken vocabulary
 * (r50k_base or gpt2, p50k_base, cl100k_base, o200k_base), or a path; without it, the model folder of
 * {@code pretrained_model_name_or_path}. A path is a tokenizer.json, a folder holding one, or a folder holding
 * llama2.c's tok512.bin; relative paths resolve against {@code modelRoot}, and no path leads out of it (see
 * {@link ConfinedPath}).
 *
 * <p>A tiktoken vocabulary is the one OpenAI publishes (GPT-2's: 50,257 tokens, {@code <|endoftext|>} 50256, as
 * transformers has it). ChatML's {@code <|im_start|>} / {@code <|im_end|>} are added only when the recipe's template
 * writes them ({@link RecipeTemplate#writesChatMl}), at the ids their families use: 50257/50258 on r50k as the Jojo
 * seed lays them out (where TRL's {@code setup_chat_format} puts them too), 100264/100265 on cl100k and
 * 200264/200265 on o200k, as OpenAI does. A tokenizer.json or tok512.bin is taken as it is.
 * The tokenize stage tokenizes with it; the trainer checks that its vocabulary fits the model's embedding.
 */
public final class Tokenizers {

    private static final String MODEL_PATH = "model_config.pretrained_model_name_or_path";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConfinedPath modelRoot;

    public Tokenizers(Path modelRoot) {
        this.modelRoot = new ConfinedPath(modelRoot, "model root");
    }

    /** The recipe's tokenizer, with the special tokens its template writes. */
    public TextTokenizer of(Recipe recipe) {
        ModelConfig model = recipe.modelConfig();
        String named = model == null ? null : model.tokenizer();
        String modelPath = model == null ? null : model.pretrainedModelNameOrPath();
        return of(
                named, modelPath, () -> RecipeTemplate.writesChatMl(recipe.dataConfig(), modelChatTemplate(modelPath)));
    }

    /**
     * @param named     {@code model_config.tokenizer}, or null
     * @param modelPath {@code model_config.pretrained_model_name_or_path}, or null
     * @param chatMl    whether the template writes ChatML's tokens (asked of tiktoken vocabularies only)
     */
    private TextTokenizer of(String named, String modelPath, BooleanSupplier chatMl) {
        if (named != null && !named.isBlank()) {
            TextTokenizer tiktoken = tiktoken(named.trim().toLowerCase(Locale.ROOT), chatMl);
            if (tiktoken != null) {
                return tiktoken;
            }
            return fromPath(modelRoot.resolve(named, "model_config.tokenizer"), named, "model_config.tokenizer");
        }
        if (modelPath != null) {
            Path folder = modelRoot.resolve(modelPath, MODEL_PATH);
            if (Files.exists(folder)) {
                return fromPath(folder, modelPath, MODEL_PATH);
            }
        }
        throw new IllegalArgumentException("model_config.tokenizer: the recipe names no tokenizer this service can load"
                + " (a tiktoken vocabulary such as r50k_base, or the path of a tokenizer.json or of a model folder)");
    }

    private static TextTokenizer tiktoken(String name, BooleanSupplier chatMl) {
        return switch (name) {
            case "gpt2", "r50k_base" ->
                chatMl.getAsBoolean() ? TiktokenTokenizer.gpt2WithChatMl() : TiktokenTokenizer.gpt2();
            case "p50k_base" -> new TiktokenTokenizer("p50k_base", Map.of());
            case "cl100k_base" -> new TiktokenTokenizer("cl100k_base", chatMl(chatMl, 100264, 100265));
            case "o200k_base" -> new TiktokenTokenizer("o200k_base", chatMl(chatMl, 200264, 200265));
            default -> null;
        };
    }

    private static Map<String, Integer> chatMl(BooleanSupplier needed, int imStart, int imEnd) {
        return needed.getAsBoolean()
                ? Map.of(RecipeTemplate.IM_START, imStart, RecipeTemplate.IM_END, imEnd)
                : Map.of();
    }

    /** The chat template of the model folder's tokenizer_config.json, or null (no folder here, no file, none in it). */
    private String modelChatTemplate(String modelPath) {
        if (modelPath == null) {
            return null;
        }
        Path file = modelRoot.resolve(modelPath, MODEL_PATH).resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return RecipeTemplate.modelChatTemplate(
                    JSON.readTree(modelRoot.confine(file, modelPath, MODEL_PATH).toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(MODEL_PATH + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The tokenizer at {@code path} (under the root); the file read is checked too, as it may be a link out. */
    private TextTokenizer fromPath(Path path, String named, String field) {
        try {
            if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".json")) {
                return HuggingFaceTextTokenizer.read(modelRoot.confine(path, named, field));
            }
            if (Files.isRegularFile(path.resolve("tokenizer.json"))) {
                return HuggingFaceTextTokenizer.read(modelRoot.confine(path.resolve("tokenizer.json"), named, field));
            }
            if (Files.isRegularFile(path.resolve("tok512.bin"))) {
                return Llama2cTokenizer.read(modelRoot.confine(path.resolve("tok512.bin"), named, field), 512);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(field + ": cannot read the tokenizer at " + path + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(field + ": " + path + " holds no tokenizer.json or tok512.bin");
    }
}
