package dev.streamtune.ingest.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.Split;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitPolicyTest {

    @Test
    void parsesPercentagesFractionsSizesAndTrain() {
        assertThat(SplitPolicy.parse("90/10", 42)).isEqualTo(new SplitPolicy.Ratios(0.9, 0.1, 0, 42));
        assertThat(SplitPolicy.parse("0.8/0.1/0.1", 1)).isEqualTo(new SplitPolicy.Ratios(0.8, 0.1, 0.1, 1));
        assertThat(SplitPolicy.parse("sizes:2000/200/200", 42)).isEqualTo(new SplitPolicy.Sizes(2000, 200, 200, 42));
        assertThat(SplitPolicy.parse("train", 42)).isEqualTo(new SplitPolicy.Ratios(1, 0, 0, 42));
        assertThatThrownBy(() -> SplitPolicy.parse("90", 42)).hasMessageContaining("must be train/valid[/test]");
        assertThatThrownBy(() -> SplitPolicy.parse("a/b", 42)).hasMessageContaining("is not a number");
    }

    @Test
    void ratiosAreDeterministicAndMatchTheirProportions() {
        SplitPolicy.Ratios ratios = new SplitPolicy.Ratios(0.8, 0.1, 0.1, 42);
        Map<Split, Integer> counts = new EnumMap<>(Split.class);
        for (int i = 0; i < 20_000; i++) {
            String id = Integer.toHexString(i * 2654435761L > 0 ? i : -i) + "-" + i;
            Split split = ratios.assign(id);
            assertThat(ratios.assign(id)).isEqualTo(split);
            counts.merge(split, 1, Integer::sum);
        }
        assertThat(counts.get(Split.TRAIN) / 20_000.0).isBetween(0.79, 0.81);
        assertThat(counts.get(Split.VALID) / 20_000.0).isBetween(0.09, 0.11);
        assertThat(counts.get(Split.TEST) / 20_000.0).isBetween(0.09, 0.11);
    }

    @Test
    void theSeedChangesTheShuffle() {
        int differ = 0;
        for (int i = 0; i < 1000; i++) {
            if (SplitPolicy.rank(1, "id" + i) != SplitPolicy.rank(2, "id" + i)) {
                differ++;
            }
        }
        assertThat(differ).isEqualTo(1000);
        assertThat(SplitPolicy.rank(1, "x")).isEqualTo(SplitPolicy.rank(1, "x")).isBetween(0.0, 1.0);
    }
}
