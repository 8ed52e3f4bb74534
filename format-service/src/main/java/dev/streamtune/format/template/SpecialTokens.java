package dev.streamtune.format.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.recipe.RecipeTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model's BOS and EOS token text and its own chat template, as Hugging Face's {@code tokenizer_config.json}
 * gives them ({@code bos_token} / {@code eos_token} as a string or as an {"content": ...} object; null when absent).
 */
public record SpecialTokens(String bosToken, String eosToken, String chatTemplate) {

    public static final SpecialTokens NONE = new SpecialTokens(null, null, null);

    /** Reads {@code tokenizer_config.json} from a model folder (or the file itself) as given: the caller keeps it under its model root. */
    public static SpecialTokens read(Path folderOrFile) throws IOException {
        Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve("tokenizer_config.json") : folderOrFile;
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        return new SpecialTokens(
                token(json.get("bos_token")), token(json.get("eos_token")), RecipeTemplate.modelChatTemplate(json));
    }

    private static String token(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? node.path("content").asText(null) : node.asText();
    }

    public SpecialTokens withEos(String eos) {
        return new SpecialTokens(bosToken, eos, chatTemplate);
    }
}
