package dev.streamtune.format.health;

import dev.streamtune.format.processor.FormatWorkers;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when every recipe's worker is formatting; a worker that is retrying after a failure (its last error shown)
 * makes the instance not ready. Kafka itself is covered by the connector's own checks.
 */
@Readiness
@ApplicationScoped
public class FormatWorkersCheck implements HealthCheck {

    @Inject
    FormatWorkers workers;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("recipe formatting").up();
        workers.status().values().forEach(status -> {
            if (status.failure() != null) {
                response.down().withData(status.recipeId(), "retrying after: " + status.failure());
            } else {
                response.withData(status.recipeId(), "formatting (" + status.formatted() + " examples)");
            }
        });
        return response.build();
    }
}
