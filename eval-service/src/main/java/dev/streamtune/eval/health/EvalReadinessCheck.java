package dev.streamtune.eval.health;

import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.worker.CheckpointIntake;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.eval.worker.Scorer;
import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.streams.WorkerState;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the recipes are known, while no eval-set worker or the checkpoints reader retries after an
 * infrastructure failure, while the scorer's last round went through, and while the checkpoint volume can be read.
 * The database has its own readiness check (the datasource's), DOWN while it cannot be reached.
 */
@Readiness
@ApplicationScoped
public class EvalReadinessCheck extends StageReadinessCheck {

    private final EvalStage stage;
    private final EvalConfig config;

    public EvalReadinessCheck(EvalStage stage, EvalConfig config) {
        this.stage = stage;
        this.config = config;
    }

    @Override
    protected String name() {
        return "evaluation";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }

    /** The checkpoint volume, the checkpoints reader and the scorer. */
    @Override
    protected boolean more(HealthCheckResponseBuilder response) {
        boolean up = true;
        Path volume = config.checkpointRoot().toAbsolutePath();
        if (Files.isDirectory(volume) && Files.isReadable(volume)) {
            response.withData("checkpoint volume", volume.toString());
        } else {
            up = false;
            response.withData("checkpoint volume", volume + " cannot be read (not mounted?)");
        }
        CheckpointIntake intake = stage.intake();
        if (intake != null) {
            WorkerState state = intake.workerState();
            if (state.retrying()) {
                up = false;
                response.withData("checkpoints", "infrastructure failure, retrying: " + state.failure());
            } else {
                response.withData("checkpoints", state.state().name().toLowerCase() + ", lag " + state.lag());
            }
        }
        Scorer scorer = stage.scorer();
        if (scorer != null && scorer.failure() != null) {
            up = false;
            response.withData("scorer", "retrying after: " + scorer.failure());
        }
        return up;
    }
}
