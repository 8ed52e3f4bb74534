package dev.streamtune.eval.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.TestConfigs;
import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.worker.EvalStage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readiness follows the checkpoint volume: an evaluator that cannot read the trainer's checkpoints is not ready. */
class EvalReadinessCheckTest {

    @TempDir
    Path volume;

    @Test
    void downWhileTheCheckpointVolumeCannotBeRead() throws Exception {
        EvalConfig config = TestConfigs.of(volume, Duration.ofSeconds(1), 10, 1, Duration.ofSeconds(1));
        // not started: no checkpoints reader or scorer yet
        EvalStage stage = new EvalStage(new SimpleMeterRegistry(), Map.of(), config, null, null);
        EvalReadinessCheck check = new EvalReadinessCheck(stage, config);
        HealthCheckResponseBuilder mounted = HealthCheckResponse.named("evaluation");
        assertThat(check.more(mounted)).isTrue();
        assertThat(mounted.build().getData().orElseThrow().get("checkpoint volume"))
                .isEqualTo(volume.toAbsolutePath().toString());

        Files.delete(volume);
        HealthCheckResponseBuilder gone = HealthCheckResponse.named("evaluation");
        assertThat(check.more(gone)).isFalse();
        assertThat(String.valueOf(gone.build().getData().orElseThrow().get("checkpoint volume")))
                .contains("cannot be read");
    }
}
