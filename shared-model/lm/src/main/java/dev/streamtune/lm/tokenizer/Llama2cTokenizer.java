package dev.streamtune.lm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The tokenizer of llama2.c models ({@code tok512.bin}, {@code tokenizer.bin}): int32 max token length, then per
 * token a float32 merge score, an int32 byte length and the UTF-8 bytes. Ids 0, 1, 2 are unk, BOS and EOS; ids 3 to
 * 258 are byte fallbacks {@code <0x00>}..{@code <0xFF>}; the rest are sentencepiece pieces, whose U+2581 stands for a
 * space. Encoding is llama2.c's: a dummy-prefix space, one token per character (bytes when the character has no
 * token), then repeatedly the adjacent merge with the highest score.
 *
 * <p>Hand-written because no Java library reads this format; it is the tokenizer of the real stories260K model
 * the runtime is proven on.
 */
public final class Llama2cTokenizer implements TextTokenizer {

    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    private static final int FIRST_BYTE_TOKEN = 3;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> idByPiece = new HashMap<>();

    private Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int id = 0; id < pieces.length; id++) {
            idByPiece.putIfAbsent(pieces[id], id);
        }
    }

    /** Reads a tokenizer file whose vocabulary has {@code vocabSize} tokens (the model's vocab_size). */
    public static Llama2cTokenizer read(Path file, int vocabSize) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        String[] pieces = new String[vocabSize];
        float[] scores = new float[vocabSize];
        try {
            int maxLength = bytes.getInt();
            for (int id = 0; id < vocabSize; id++) {
                scores[id] = bytes.getFloat();
                int length = bytes.getInt();
                if (length < 0 || length > Math.max(maxLength, 64) || length > bytes.remaining()) {
                    throw new IOException(file + ": token " + id + " claims " + length + " bytes");
                }
                byte[] piece = new byte[length];
                bytes.get(piece);
                pieces[id] = new String(piece, StandardCharsets.UTF_8).replace('\u2581', ' ');
            }
        } catch (BufferUnderflowException e) {
            throw new IOException(file + " ends before its " + vocabSize + " tokens");
        }
        return new Llama2cTokenizer(pieces, scores);
    }

    public int vocabSize() {
        return pieces.length;
    }

    public int[] encode(String text, boolean bos, boolean eos) {
        List<Integer> tokens = new ArrayList<>();
        if (!text.isEmpty()) {
            tokens.add(idByPiece.get(" ")); // sentencepiece's dummy prefix
        }
        text.codePoints().forEach(codePoint -> {
            String character = new String(Character.toChars(codePoint));
            Integer id = idByPiece.get(character);
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte b : character.getBytes(StandardCharsets.UTF_8)) {
                    tokens.add((b & 0xFF) + FIRST_BYTE_TOKEN);
                }
            }
        });
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestIndex = -1;
            for (int i = 0; i + 1 < tokens.size(); i++) {
                Integer merged = idByPiece.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
                if (merged != null && scores[merged] > best) {
                    best = scores[merged];
                    bestId = merged;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) {
                break;
            }
            tokens.set(bestIndex, bestId);
            tokens.remove(bestIndex + 1);
        }
        if (bos) {
            tokens.add(0, BOS);
        }
        if (eos) {
            tokens.add(EOS);
        }
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The text of the tokens; BOS and EOS are dropped, byte tokens joined back into UTF-8. */
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int token : tokens) {
            if (token == BOS || token == EOS) {
                continue;
            }
            if (token >= FIRST_BYTE_TOKEN && token < FIRST_BYTE_TOKEN + 256) {
                bytes.write(token - FIRST_BYTE_TOKEN);
            } else {
                bytes.writeBytes(pieces[token].getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static final Map<String, Integer> SPECIALS = Map.of("<s>", BOS, "</s>", EOS);

    @Override
    public String name() {
        return "llama2c";
    }

    /** Ordinary text: no BOS or EOS, and {@code <s>} typed in content stays text. */
    @Override
    public int[] encode(String text) {
        return encode(text, false, false);
    }

    @Override
    public int[] encodeMarkup(String text) {
        return new SpecialTokenSplitter(SPECIALS).encode(text, this::encode);
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return SPECIALS;
    }

    @Override
    public OptionalInt bos() {
        return OptionalInt.of(BOS);
    }

    @Override
    public OptionalInt eos() {
        return OptionalInt.of(EOS);
    }
}
