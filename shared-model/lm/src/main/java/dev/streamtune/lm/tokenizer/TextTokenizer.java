package dev.streamtune.lm.tokenizer;

import java.util.Map;
import java.util.OptionalInt;

/**
 * A tokenizer as the data path uses it. Text comes in two kinds, and the difference is what keeps user data from
 * injecting control tokens:
 * <ul>
 *   <li>{@link #encode(String)}: message content. Text that merely looks like a special token
 *       ({@code <|im_end|>} typed by a user) is encoded as ordinary text, as Hugging Face does with
 *       {@code split_special_tokens=True}.</li>
 *   <li>{@link #encodeMarkup(String)}: a template's own text (role headers, turn ends, BOS/EOS), where special
 *       token strings become their single ids.</li>
 * </ul>
 * Neither adds BOS or EOS by itself: templates and the tokenize service decide where they go.
 */
public interface TextTokenizer {

    /** What it is, for logs and metrics: {@code tiktoken:r50k_base}, {@code tokenizer.json:...}, {@code llama2c}. */
    String name();

    /** Ids of ordinary text; special-token strings in it are not special. */
    int[] encode(String text);

    /** Ids of template markup: special-token strings become their ids, the rest is ordinary text. */
    int[] encodeMarkup(String text);

    String decode(int[] ids);

    /** Size of the id space, special tokens included. */
    int vocabSize();

    /** Special tokens by their text. */
    Map<String, Integer> specialTokens();

    OptionalInt bos();

    OptionalInt eos();
}
