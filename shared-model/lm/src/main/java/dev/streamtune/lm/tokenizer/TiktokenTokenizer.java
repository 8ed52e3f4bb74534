package dev.streamtune.lm.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * OpenAI's tiktoken vocabularies through jtokkit: r50k_base (GPT-2), p50k_base, cl100k_base, o200k_base, with the
 * vocabulary's own special tokens and any added ones (ChatML's {@code <|im_start|>} / {@code <|im_end|>}, at ids the
 * caller chooses: the Jojo seed puts {@code <|im_end|>} at 50257 and {@code <|im_start|>} at 50258 on r50k).
 */
public final class TiktokenTokenizer implements TextTokenizer {

    private final EncodingType type;
    private final Encoding encoding;
    private final Map<String, Integer> specials;
    private final Map<Integer, String> specialsById = new LinkedHashMap<>();
    private final SpecialTokenSplitter splitter;
    private final int vocabSize;
    private final Integer eos;

    /**
     * @param added extra special tokens and their ids; an id must not collide with the vocabulary's ordinary ids
     *              or its own special tokens
     */
    public TiktokenTokenizer(String encodingName, Map<String, Integer> added) {
        this.type = EncodingType.fromName(encodingName.toLowerCase(Locale.ROOT))
                .orElseThrow(() -> new IllegalArgumentException("unknown tiktoken encoding '" + encodingName
                        + "': expected r50k_base, p50k_base, p50k_edit, cl100k_base or o200k_base"));
        this.encoding = Encodings.newLazyEncodingRegistry().getEncoding(type);
        Map<String, Integer> all = new LinkedHashMap<>(ownSpecials(type));
        int ordinary = ordinaryVocabulary(type);
        for (Map.Entry<String, Integer> token : added.entrySet()) {
            if (token.getValue() < ordinary) {
                throw new IllegalArgumentException("special token " + token.getKey() + " at id " + token.getValue()
                        + " would shadow an ordinary token of " + encodingName + " (ids below " + ordinary + ")");
            }
            Integer clash = all.get(token.getKey());
            if (clash != null && !clash.equals(token.getValue())) {
                throw new IllegalArgumentException("special token " + token.getKey() + " is already id " + clash
                        + " in " + encodingName + ", not " + token.getValue());
            }
            if (all.containsValue(token.getValue()) && !token.getValue().equals(clash)) {
                throw new IllegalArgumentException(
                        "id " + token.getValue() + " is already a special token of " + encodingName);
            }
            all.put(token.getKey(), token.getValue());
        }
        this.specials = Map.copyOf(all);
        all.forEach((text, id) -> specialsById.put(id, text));
        this.splitter = new SpecialTokenSplitter(specials);
        this.vocabSize = Math.max(
                ordinary,
                all.values().stream().mapToInt(Integer::intValue).max().orElse(0) + 1);
        this.eos = specials.get("<|endoftext|>");
    }

    /** GPT-2's vocabulary as transformers has it: 50,257 tokens, the last {@code <|endoftext|>} (50256). */
    public static TiktokenTokenizer gpt2() {
        return new TiktokenTokenizer("r50k_base", Map.of());
    }

    /**
     * ChatML on GPT-2's vocabulary as the Jojo seed lays it out: {@code <|im_end|>} 50257, {@code <|im_start|>} 50258
     * (50,259 ids: a model needs an embedding resized for them).
     */
    public static TiktokenTokenizer gpt2WithChatMl() {
        return new TiktokenTokenizer("r50k_base", Map.of("<|im_end|>", 50257, "<|im_start|>", 50258));
    }

    private static Map<String, Integer> ownSpecials(EncodingType type) {
        return switch (type) {
            case R50K_BASE -> Map.of("<|endoftext|>", 50256);
            case P50K_BASE -> Map.of("<|endoftext|>", 50256);
            case P50K_EDIT ->
                Map.of(
                        "<|endoftext|>",
                        50256,
                        "<|fim_prefix|>",
                        50281,
                        "<|fim_middle|>",
                        50282,
                        "<|fim_suffix|>",
                        50283);
            case CL100K_BASE ->
                Map.of(
                        "<|endoftext|>",
                        100257,
                        "<|fim_prefix|>",
                        100258,
                        "<|fim_middle|>",
                        100259,
                        "<|fim_suffix|>",
                        100260,
                        "<|endofprompt|>",
                        100276);
            case O200K_BASE -> Map.of("<|endoftext|>", 199999, "<|endofprompt|>", 200018);
        };
    }

    /** Ids below this are ordinary tokens (and the vocabulary's own specials, which sit in it for r50k). */
    private static int ordinaryVocabulary(EncodingType type) {
        return switch (type) {
            case R50K_BASE -> 50257;
            case P50K_BASE -> 50281;
            case P50K_EDIT -> 50284;
            case CL100K_BASE -> 100277;
            case O200K_BASE -> 200019;
        };
    }

    @Override
    public String name() {
        return "tiktoken:" + type.getName();
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public int[] encodeMarkup(String text) {
        return splitter.encode(text, this::encode);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder text = new StringBuilder();
        IntArrayList run = new IntArrayList();
        for (int id : ids) {
            String special = specialsById.get(id);
            if (special == null) {
                run.add(id);
                continue;
            }
            if (!run.isEmpty()) {
                text.append(new String(encoding.decodeBytes(run), StandardCharsets.UTF_8));
                run = new IntArrayList();
            }
            text.append(special);
        }
        if (!run.isEmpty()) {
            text.append(new String(encoding.decodeBytes(run), StandardCharsets.UTF_8));
        }
        return text.toString();
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
        return OptionalInt.empty();
    }

    @Override
    public OptionalInt eos() {
        return eos == null ? OptionalInt.empty() : OptionalInt.of(eos);
    }
}
