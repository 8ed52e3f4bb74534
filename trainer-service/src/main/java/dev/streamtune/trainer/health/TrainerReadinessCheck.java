package dev.streamtune.trainer.health;

import ai.djl.engine.Engine;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.trainer.worker.TrainerStage;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the recipes are known, while no run retries after an infrastructure failure, and while PyTorch's
 * engine loads and a device is usable. The database has its own readiness check (the datasource's).
 */
@Readiness
@ApplicationScoped
public class TrainerReadinessCheck extends StageReadinessCheck {

    private final TrainerStage stage;

    public TrainerReadinessCheck(TrainerStage stage) {
        this.stage = stage;
    }

    @Override
    protected String name() {
        return "training runs";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }

    /** PyTorch's engine loads and a device is usable. */
    @Override
    protected boolean more(HealthCheckResponseBuilder response) {
        try {
            response.withData(
                    "engine",
                    Engine.getInstance().getEngineName() + " "
                            + Engine.getInstance().getVersion() + " on " + Compute.device());
            return true;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            response.withData("engine", "no usable engine: " + e.getMessage());
            return false;
        }
    }
}
