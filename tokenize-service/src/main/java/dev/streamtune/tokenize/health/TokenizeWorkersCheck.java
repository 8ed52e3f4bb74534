package dev.streamtune.tokenize.health;

import dev.streamtune.streams.StageReadinessCheck;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.tokenize.worker.TokenizeStage;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the recipes are known and while no recipe's tokenizing retries after an infrastructure failure. */
@Readiness
@ApplicationScoped
public class TokenizeWorkersCheck extends StageReadinessCheck {

    private final TokenizeStage stage;

    public TokenizeWorkersCheck(TokenizeStage stage) {
        this.stage = stage;
    }

    @Override
    protected String name() {
        return "recipe tokenizing";
    }

    @Override
    protected StageRuntime<?> runtime() {
        return stage.runtime();
    }
}
