package dev.streamtune.trainer.health;

import ai.djl.engine.Engine;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.trainer.worker.TrainerStage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the recipes are known, while no run retries after an infrastructure failure, and while PyTorch's
 * engine loads and a device is usable. The database has its own readiness check (the datasource's).
 */
@Readiness
@ApplicationScoped
public class TrainerReadinessCheck extends StageReadinessCheck {

    @Inject
    TrainerStage stage;

    @Override
    protected String name() {
        return "training runs";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponse stageResponse = super.call();
        String engine;
        boolean usable;
        try {
            engine = Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion() + " on "
                    + Compute.device();
            usable = true;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            engine = "no usable engine: " + e.getMessage();
            usable = false;
        }
        var builder = HealthCheckResponse.named(name()).status(stageResponse.getStatus() == HealthCheckResponse.Status.UP
                && usable).withData("engine", engine);
        stageResponse.getData().ifPresent(data -> data.forEach((key, value) -> builder.withData(key, String.valueOf(value))));
        return builder.build();
    }
}
