package dev.streamtune.tokenize.health;

import dev.streamtune.tokenize.processor.TokenizeWorkers;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready when every recipe's worker is tokenizing; one retrying after a failure makes the instance not ready. */
@Readiness
@ApplicationScoped
public class TokenizeWorkersCheck implements HealthCheck {

    @Inject
    TokenizeWorkers workers;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("recipe tokenizing").up();
        workers.status().values().forEach(status -> {
            if (status.failure() != null) {
                response.down().withData(status.recipeId(), "retrying after: " + status.failure());
            } else {
                response.withData(status.recipeId(), status.batches() + " batches");
            }
        });
        return response.build();
    }
}
