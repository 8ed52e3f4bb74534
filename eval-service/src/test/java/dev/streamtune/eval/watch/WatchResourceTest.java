package dev.streamtune.eval.watch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WatchResourceTest {

    @Test
    void aLongRunsLossCurveIsThinnedOutToAboutTwoThousandPoints() {
        assertThat(WatchResource.stride(0)).isEqualTo(1);
        assertThat(WatchResource.stride(2_000)).isEqualTo(1);
        assertThat(WatchResource.stride(2_001)).isEqualTo(2);
        long weeks = 3_000_000;
        assertThat(weeks / WatchResource.stride(weeks)).isBetween(1_000L, (long) WatchResource.CURVE_POINTS);
    }
}
