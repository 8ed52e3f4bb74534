package dev.streamtune.eval.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.TestConfigs;
import dev.streamtune.eval.worker.EvalStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        EvalReadinessCheck check = new EvalReadinessCheck();
        check.stage = new EvalStage(); // not started: no checkpoints reader or scorer yet
        check.config = TestConfigs.of(volume, Duration.ofSeconds(1), 10, 1, Duration.ofSeconds(1));
        HealthCheckResponseBuilder mounted = HealthCheckResponse.named("evaluation");
        assertThat(check.more(mounted)).isTrue();
        assertThat(mounted.build().getData().orElseThrow().get("checkpoint volume")).isEqualTo(volume.toAbsolutePath().toString());

        Files.delete(volume);
        HealthCheckResponseBuilder gone = HealthCheckResponse.named("evaluation");
        assertThat(check.more(gone)).isFalse();
        assertThat(String.valueOf(gone.build().getData().orElseThrow().get("checkpoint volume"))).contains("cannot be read");
    }
}
