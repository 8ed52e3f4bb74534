package dev.streamtune.lm.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's binding of the Rust tokenizers library, with no truncation,
 * padding or automatic special tokens (DJL would otherwise truncate to 512 tokens: DJL_NOTES).
 *
 * <p>The Rust library finds added tokens anywhere in its input, which would let message content inject
 * {@code <|im_end|>}. Content therefore goes through a second instance built from the same file without its
 * special added tokens, which encodes such text as ordinary text (what {@code split_special_tokens=True} does);
 * markup is cut at special-token strings and encoded piece by piece.
 */
public final class HuggingFaceTextTokenizer implements TextTokenizer, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> OPTIONS =
            Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
    private static final List<String> BOS_NAMES = List.of("<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>");
    private static final List<String> EOS_NAMES = List.of("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>");

    private final String name;
    private final HuggingFaceTokenizer full;
    private final HuggingFaceTokenizer plain;
    private final Map<String, Integer> specials;
    private final SpecialTokenSplitter splitter;
    private final int vocabSize;
    private final Integer bos;
    private final Integer eos;

    private HuggingFaceTextTokenizer(
            String name,
            HuggingFaceTokenizer full,
            HuggingFaceTokenizer plain,
            Map<String, Integer> specials,
            int vocabSize,
            Integer bos,
            Integer eos) {
        this.name = name;
        this.full = full;
        this.plain = plain;
        this.specials = Map.copyOf(specials);
        this.splitter = new SpecialTokenSplitter(specials);
        this.vocabSize = vocabSize;
        this.bos = bos;
        this.eos = eos;
    }

    /**
     * Reads {@code tokenizer.json} (a file, or a model folder holding one). BOS and EOS come from a
     * {@code tokenizer_config.json} beside it when there is one, else from the usual special-token names.
     */
    public static HuggingFaceTextTokenizer read(Path fileOrFolder) throws IOException {
        Path file = Files.isDirectory(fileOrFolder) ? fileOrFolder.resolve("tokenizer.json") : fileOrFolder;
        JsonNode json = JSON.readTree(file.toFile());
        Map<String, Integer> specials = new LinkedHashMap<>();
        ArrayNode kept = JSON.createArrayNode();
        int maxId = -1;
        JsonNode vocab = json.path("model").path("vocab");
        if (vocab.isObject()) { // BPE, WordPiece: token -> id
            for (JsonNode id : vocab) {
                maxId = Math.max(maxId, id.asInt());
            }
        } else if (vocab.isArray()) { // Unigram: [piece, score] in id order
            maxId = vocab.size() - 1;
        }
        for (JsonNode added : json.path("added_tokens")) {
            maxId = Math.max(maxId, added.path("id").asInt());
            if (added.path("special").asBoolean(false)) {
                specials.put(added.path("content").asText(), added.path("id").asInt());
            } else {
                kept.add(added);
            }
        }
        ObjectNode withoutSpecials = json.deepCopy();
        withoutSpecials.set("added_tokens", kept);
        Path plainFile = Files.createTempFile("tokenizer-plain-", ".json");
        try {
            JSON.writeValue(plainFile.toFile(), withoutSpecials);
            HuggingFaceTokenizer full = HuggingFaceTokenizer.newInstance(file, OPTIONS);
            HuggingFaceTokenizer plain = HuggingFaceTokenizer.newInstance(plainFile, OPTIONS);
            Map<String, String> configured = configuredTokens(file.resolveSibling("tokenizer_config.json"));
            Integer bos = id(configured.get("bos_token"), BOS_NAMES, specials);
            Integer eos = id(configured.get("eos_token"), EOS_NAMES, specials);
            return new HuggingFaceTextTokenizer(
                    "tokenizer.json:" + file.getFileName(), full, plain, specials, maxId + 1, bos, eos);
        } finally {
            Files.deleteIfExists(plainFile);
        }
    }

    private static Map<String, String> configuredTokens(Path config) throws IOException {
        Map<String, String> tokens = new LinkedHashMap<>();
        if (Files.isRegularFile(config)) {
            JsonNode json = JSON.readTree(config.toFile());
            for (String key : List.of("bos_token", "eos_token")) {
                JsonNode token = json.get(key);
                if (token != null && !token.isNull()) {
                    tokens.put(key, token.isObject() ? token.path("content").asText() : token.asText());
                }
            }
        }
        return tokens;
    }

    private static Integer id(String configured, List<String> usualNames, Map<String, Integer> specials) {
        if (configured != null) {
            return specials.get(configured);
        }
        for (String name : usualNames) {
            if (specials.containsKey(name)) {
                return specials.get(name);
            }
        }
        return null;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int[] encode(String text) {
        return toInts(plain.encode(text).getIds());
    }

    @Override
    public int[] encodeMarkup(String text) {
        return splitter.encode(text, this::encode);
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return full.decode(longs, false);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return specials;
    }

    @Override
    public OptionalInt bos() {
        return bos == null ? OptionalInt.empty() : OptionalInt.of(bos);
    }

    @Override
    public OptionalInt eos() {
        return eos == null ? OptionalInt.empty() : OptionalInt.of(eos);
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public void close() {
        full.close();
        plain.close();
    }
}
