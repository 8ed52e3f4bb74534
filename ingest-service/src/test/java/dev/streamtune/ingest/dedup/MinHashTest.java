package dev.streamtune.ingest.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

class MinHashTest {

    private final MinHash minHash = new MinHash(16);

    private MinHash.Signature sign(String text) {
        return minHash.sign(List.of(Message.user("Tell me."), Message.assistant(text)));
    }

    @Test
    void similarityTracksTheJaccardIndexOfTheShingles() {
        String base = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                + "sixteen seventeen eighteen nineteen twenty twentyone twentytwo twentythree twentyfour";
        MinHash.Signature original = sign(base);

        assertThat(original.similarity(sign(base))).isEqualTo(1.0);
        assertThat(original.similarity(sign(base.replace("twelve", "dozen")))).isBetween(0.6, 0.95);
        assertThat(original.similarity(sign("completely different words about another subject entirely here")))
                .isLessThan(0.1);
        assertThat(original.sharesBand(sign(base.replace("twentyfour", "24")))).isTrue();
    }

    @Test
    void storedValuesRebuildTheSameBands() {
        MinHash.Signature signature = sign("a b c d e f g");

        assertThat(minHash.fromValues(signature.values()).bandKeys()).containsExactly(signature.bandKeys());
        assertThat(signature.bandKeys()).hasSize(16);
    }
}
