package dev.streamtune.ingest.health;

import dev.streamtune.events.Topics;
import dev.streamtune.ingest.worker.RawTopicDoor;
import dev.streamtune.streams.WorkerState;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Not ready while the {@code conversations-raw} door retries after a failure of the platform (which failure, how
 * often, in the data), as a stage's worker would be; otherwise its state and lag are shown. Bad records are dead
 * letters, not failures: they leave the door ready.
 */
@Readiness
@ApplicationScoped
public class RawDoorCheck implements HealthCheck {

    private final RawTopicDoor door;

    public RawDoorCheck(RawTopicDoor door) {
        this.door = door;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named(Topics.CONVERSATIONS_RAW + " door");
        WorkerState state = door.state();
        if (state == null) {
            return response.down()
                    .withData(Topics.CONVERSATIONS_RAW, "starting")
                    .build();
        }
        return response.status(!state.retrying())
                .withData(Topics.CONVERSATIONS_RAW, state.summary())
                .build();
    }
}
