package dev.streamtune.eval.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.config.EvalConfig;
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
        check.config = config(volume);
        HealthCheckResponseBuilder mounted = HealthCheckResponse.named("evaluation");
        assertThat(check.more(mounted)).isTrue();
        assertThat(mounted.build().getData().orElseThrow().get("checkpoint volume")).isEqualTo(volume.toAbsolutePath().toString());

        Files.delete(volume);
        HealthCheckResponseBuilder gone = HealthCheckResponse.named("evaluation");
        assertThat(check.more(gone)).isFalse();
        assertThat(String.valueOf(gone.build().getData().orElseThrow().get("checkpoint volume"))).contains("cannot be read");
    }

    private static EvalConfig config(Path root) {
        return new EvalConfig() {
            public Path modelRoot() {
                return root;
            }

            public Path checkpointRoot() {
                return root;
            }

            public Duration settleAfter() {
                return Duration.ofSeconds(1);
            }

            public int maxExamplesPerSplit() {
                return 10;
            }

            public int batchSize() {
                return 1;
            }

            public int cachedModels() {
                return 1;
            }

            public Duration publishTimeout() {
                return Duration.ofSeconds(1);
            }

            public Generation generation() {
                return null;
            }

            public Watch watch() {
                return null;
            }
        };
    }
}
