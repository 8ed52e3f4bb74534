package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.RopeScaling;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Llama 3 rope scaling: short wavelengths kept, long ones divided by the factor, the band between interpolated. */
class RopeScalingTest {

    private final RopeScaling llama31 = new RopeScaling(8.0, 1.0, 4.0, 8192);

    @Test
    void scalesEachBandOfWavelengths() {
        double fast = 1.0; // wavelength 2 pi, far below 8192 / 4
        double slow = 2 * Math.PI / 100_000; // wavelength 100000, above 8192 / 1
        double middle = 2 * Math.PI / 4096; // wavelength 4096: smooth = (8192 / 4096 - 1) / (4 - 1) = 1/3

        assertThat(llama31.scale(fast)).isEqualTo(fast);
        assertThat(llama31.scale(slow)).isCloseTo(slow / 8, within(1e-15));
        assertThat(llama31.scale(middle)).isCloseTo((2.0 / 3) * middle / 8 + (1.0 / 3) * middle, within(1e-15));
    }

    @Test
    void isReadFromTheLlama31Config() throws Exception {
        LlamaConfig config = HfLlamaCheckpoint.config(
                Path.of(getClass().getResource("/configs/llama-3.1-8b.json").toURI()));

        assertThat(config.ropeScaling()).isEqualTo(llama31);
        assertThat(config.ropeTheta()).isEqualTo(500000.0);
        assertThat(config.kvHeads()).isEqualTo(8);
        assertThat(config.tiedEmbeddings()).isFalse();
    }
}
