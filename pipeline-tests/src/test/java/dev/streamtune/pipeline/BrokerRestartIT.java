package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.KafkaBroker;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.RecipeTopic;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The broker stops mid-stream and comes back (same ports, same data): every service's readiness goes DOWN while it
 * is away and UP again after, processing resumes, and nothing is lost or batched twice.
 */
class BrokerRestartIT {

    private static final int HALF = 3_000;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aBrokerRestartMidStreamMakesEveryServiceUnreadyThenReadyAndLosesNothing() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "restart-" + run;
        Recipe recipe = Pipeline.recipe("restart-" + run, dataset);
        try (KafkaBroker broker = KafkaBroker.startTemporary()) {
            TopicProvisioner.ensure(broker.bootstrapServers(), Topics.ALL);
            try (Pipeline pipeline =
                    Pipeline.start(broker.bootstrapServers(), Infrastructure.database(), "restart-" + run)) {
                List<ServiceProcess> services = List.of(pipeline.ingest, pipeline.format, pipeline.tokenize);
                RecipeTopic.publish(pipeline.kafka, recipe);
                pipeline.produce(run, dataset, 0, HALF);
                await("formatting under way", () -> pipeline.endOffsets(Topics.EXAMPLES) >= HALF / 3);

                broker.stopKeepingData();
                for (ServiceProcess service : services) {
                    await(service.name() + " not ready without its broker", () -> readiness(service) == 503);
                }

                broker.startAgain();
                for (ServiceProcess service : services) {
                    await(service.name() + " ready again", () -> readiness(service) == 200);
                }
                pipeline.produce(run, dataset, HALF, 2 * HALF);

                Accounting.assertNothingLostNothingTwice(pipeline, recipe, dataset, 2 * HALF);
                for (ServiceProcess service : services) {
                    assertThat(readiness(service)).as(service.name()).isEqualTo(200);
                }
            }
        }
    }

    private int readiness(ServiceProcess service) throws IOException, InterruptedException {
        return http.send(
                        HttpRequest.newBuilder(service.uri("/q/health/ready"))
                                .timeout(Duration.ofSeconds(30))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
