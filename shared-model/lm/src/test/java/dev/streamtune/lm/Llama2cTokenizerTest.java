package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.lm.tokenizer.Llama2cTokenizer;
import dev.streamtune.testing.SharedData;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real tok512.bin of stories260K against the reference decoding in REFERENCE.md. */
class Llama2cTokenizerTest {

    private static Llama2cTokenizer tokenizer;
    private static Stories260kReference reference;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = Llama2cTokenizer.read(SharedData.require("models/stories260K/tok512.bin"), 512);
        reference = Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
    }

    @Test
    void decodesTheReferenceTokensToTheReferenceText() {
        assertThat(tokenizer.decode(reference.greedyIds())).isEqualTo(reference.greedyText());
    }

    @Test
    void encodesTheReferenceTextBackToTheReferenceTokens() {
        String text = reference.greedyText().substring(1); // the dummy-prefix space is added by the encoder

        assertThat(tokenizer.encode(text, false, false)).containsExactly(reference.greedyIds());
        assertThat(tokenizer.encode(text, true, true))
                .startsWith(Llama2cTokenizer.BOS)
                .endsWith(Llama2cTokenizer.EOS);
    }

    @Test
    void charactersWithoutATokenFallBackToBytesAndRoundTrip() {
        String text = "Zoë paid 5€ — ok";

        int[] tokens = tokenizer.encode(text, true, false);

        assertThat(tokenizer.decode(tokens)).isEqualTo(" " + text);
        assertThat(Arrays.stream(tokens).filter(id -> id >= 3 && id <= 258).count())
                .as("byte-fallback tokens")
                .isPositive();
    }
}
