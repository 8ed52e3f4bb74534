package dev.streamtune.format.health;

import dev.streamtune.format.worker.FormatStage;
import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the recipes are known and while no recipe's formatting retries after an infrastructure failure. */
@Readiness
@ApplicationScoped
public class FormatWorkersCheck extends StageReadinessCheck {

    private final FormatStage stage;

    public FormatWorkersCheck(FormatStage stage) {
        this.stage = stage;
    }

    @Override
    protected String name() {
        return "recipe formatting";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }
}
