package dev.streamtune.eval.health;

import dev.streamtune.eval.config.EvalConfig;
import dev.streamtune.eval.worker.CheckpointIntake;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.eval.worker.Scorer;
import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.streams.WorkerState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the recipes are known, while no eval-set worker or the checkpoints reader retries after an
 * infrastructure failure, while the scorer's last round went through, and while the checkpoint volume can be read.
 * The database has its own readiness check (the datasource's), DOWN while it cannot be reached.
 */
@Readiness
@ApplicationScoped
public class EvalReadinessCheck extends StageReadinessCheck {

    @Inject
    EvalStage stage;

    @Inject
    EvalConfig config;

    @Override
    protected String name() {
        return "evaluation";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponse stageResponse = super.call();
        boolean up = stageResponse.getStatus() == HealthCheckResponse.Status.UP;
        var builder = HealthCheckResponse.named(name());
        stageResponse.getData().ifPresent(data -> data.forEach((key, value) -> builder.withData(key, String.valueOf(value))));
        Path volume = config.checkpointRoot().toAbsolutePath();
        if (Files.isDirectory(volume) && Files.isReadable(volume)) {
            builder.withData("checkpoint volume", volume.toString());
        } else {
            up = false;
            builder.withData("checkpoint volume", volume + " cannot be read (not mounted?)");
        }
        CheckpointIntake intake = stage.intake();
        if (intake != null) {
            WorkerState state = intake.workerState();
            if (state.retrying()) {
                up = false;
                builder.withData("checkpoints", "infrastructure failure, retrying: " + state.failure());
            } else {
                builder.withData("checkpoints", state.state().name().toLowerCase() + ", lag " + state.lag());
            }
        }
        Scorer scorer = stage.scorer();
        if (scorer != null && scorer.failure() != null) {
            up = false;
            builder.withData("scorer", "retrying after: " + scorer.failure());
        }
        return builder.status(up).build();
    }
}
