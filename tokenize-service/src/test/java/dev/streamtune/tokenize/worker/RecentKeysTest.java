package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RecentKeysTest {

    @Test
    void aRepeatWithinTheHorizonIsRecognisedAndOneOlderIsNewAgain() {
        RecentKeys keys = new RecentKeys(3);

        assertThat(keys.add("r:a")).isTrue();
        assertThat(keys.add("r:a")).isFalse();
        keys.add("r:b");
        keys.add("r:c");
        assertThat(keys.add("r:a")).as("still among the last three").isFalse();
        keys.add("r:d");

        assertThat(keys.add("r:a")).as("four keys later").isTrue();
        assertThat(keys.size()).isEqualTo(3);
    }

    @Test
    void memoryStaysAtTheHorizonOverALongStream() {
        RecentKeys keys = new RecentKeys(1_000);
        for (int i = 0; i < 100_000; i++) {
            keys.add("r:e" + i);
        }
        assertThat(keys.size()).isEqualTo(1_000);
    }

    @Test
    void aRestartLooksBackAsManyRecordsAsTheHorizonOrToTheBeginning() {
        assertThat(RecentKeys.lookBack(Map.of(0, 50_000L, 1, 12L), 20_000)).isEqualTo(Map.of(0, 30_000L, 1, 0L));
        assertThatIllegalArgumentException().isThrownBy(() -> new RecentKeys(0));
    }
}
