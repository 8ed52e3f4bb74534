package dev.streamtune.streams;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/**
 * A stage's readiness as a MicroProfile health check: down until the recipes are known and while any recipe's
 * worker retries after a failure of the infrastructure (which one, and why, in the data); records that failed on
 * their own are dead letters, counted in the data, and leave the instance ready. A service declares it with
 * {@code @Readiness} on a subclass naming its stage; Kafka itself is covered by the Kafka extension's own check.
 */
public abstract class StageReadinessCheck implements HealthCheck {

    /** The check's name, e.g. "recipe formatting". */
    protected abstract String name();

    /** The running stage; null while the service is still starting. */
    protected abstract StageRuntime<?> runtime();

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named(name());
        StageRuntime<?> runtime = runtime();
        if (runtime == null) {
            return response.down().withData("recipes", "starting").build();
        }
        StageRuntime.Readiness readiness = runtime.readiness();
        readiness.data().forEach(response::withData);
        boolean more = more(response);
        return response.status(readiness.up() && more).build();
    }

    /**
     * What else the service's readiness depends on (a usable engine, a mounted volume...), added to the response's
     * data; false when it is not ready. Nothing by default.
     */
    protected boolean more(HealthCheckResponseBuilder response) {
        return true;
    }
}
