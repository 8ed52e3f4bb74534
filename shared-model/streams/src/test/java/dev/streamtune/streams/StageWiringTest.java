package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A service stopped before its stage started (a failed start, a shutdown during start) has nothing to close. */
class StageWiringTest {

    @Test
    void aStageNotYetStartedHasNoRuntimeAndStopsWithoutOne() {
        StageWiring<RecipeStreamWorker> wiring =
                new StageWiring<>("format-service", "format", new SimpleMeterRegistry(), Map.of());

        assertThat(wiring.runtime())
                .as("what readiness checks and status views see while starting")
                .isNull();
        wiring.stop();
        assertThat(wiring.runtime()).isNull();
    }
}
