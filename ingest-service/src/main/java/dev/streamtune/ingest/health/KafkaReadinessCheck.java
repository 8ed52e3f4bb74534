package dev.streamtune.ingest.health;

import dev.streamtune.streams.BrokerProbe;
import dev.streamtune.streams.KafkaSettings;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Not ready while Kafka does not answer within two seconds: nothing ingested could be published. */
@Readiness
@ApplicationScoped
public class KafkaReadinessCheck implements HealthCheck {

    private final Map<String, Object> kafka;

    private BrokerProbe probe;

    public KafkaReadinessCheck(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
    }

    @PostConstruct
    void start() {
        probe = new BrokerProbe(new KafkaSettings(kafka), Duration.ofSeconds(2));
    }

    @PreDestroy
    void stop() {
        probe.close();
    }

    @Override
    public HealthCheckResponse call() {
        String unreachable = probe.unreachable();
        return HealthCheckResponse.named("kafka")
                .status(unreachable == null)
                .withData("kafka", unreachable == null ? "answering" : unreachable)
                .build();
    }
}
