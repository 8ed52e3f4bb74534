package dev.streamtune.lm.tokenizer;

import dev.streamtune.events.ConfinedPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The tokenizer a recipe names. {@code model_config.tokenizer} may be a tiktoken vocabulary (r50k_base or gpt2,
 * p50k_base, cl100k_base, o200k_base; ChatML's tokens are added at the ids their families use: 50257/50258 on
 * r50k as the Jojo seed lays them out, 100264/100265 on cl100k and 200264/200265 on o200k, as OpenAI does), or a
 * path; without it, the model folder of {@code pretrained_model_name_or_path}. A path is a tokenizer.json, a folder
 * holding one, or a folder holding llama2.c's tok512.bin; relative paths resolve against {@code modelRoot}, and no
 * path leads out of it (see {@link ConfinedPath}).
 * The tokenize stage tokenizes with it; the trainer checks that its vocabulary fits the model's embedding.
 */
public final class Tokenizers {

    private final ConfinedPath modelRoot;

    public Tokenizers(Path modelRoot) {
        this.modelRoot = new ConfinedPath(modelRoot, "model root");
    }

    /**
     * @param named     {@code model_config.tokenizer}, or null
     * @param modelPath {@code model_config.pretrained_model_name_or_path}, or null
     */
    public TextTokenizer of(String named, String modelPath) {
        if (named != null && !named.isBlank()) {
            TextTokenizer tiktoken = tiktoken(named.trim().toLowerCase(Locale.ROOT));
            if (tiktoken != null) {
                return tiktoken;
            }
            return fromPath(modelRoot.resolve(named, "model_config.tokenizer"), named, "model_config.tokenizer");
        }
        if (modelPath != null) {
            Path folder = modelRoot.resolve(modelPath, "model_config.pretrained_model_name_or_path");
            if (Files.exists(folder)) {
                return fromPath(folder, modelPath, "model_config.pretrained_model_name_or_path");
            }
        }
        throw new IllegalArgumentException("model_config.tokenizer: the recipe names no tokenizer this service can load"
                + " (a tiktoken vocabulary such as r50k_base, or the path of a tokenizer.json or of a model folder)");
    }

    private static TextTokenizer tiktoken(String name) {
        return switch (name) {
            case "gpt2", "r50k_base" -> TiktokenTokenizer.gpt2WithChatMl();
            case "p50k_base" -> new TiktokenTokenizer("p50k_base", Map.of());
            case "cl100k_base" ->
                new TiktokenTokenizer("cl100k_base", Map.of("<|im_start|>", 100264, "<|im_end|>", 100265));
            case "o200k_base" ->
                new TiktokenTokenizer("o200k_base", Map.of("<|im_start|>", 200264, "<|im_end|>", 200265));
            default -> null;
        };
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
