package dev.streamtune.streams;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * What every worker of a stage shares: the service's name (consumer groups are {@code <service>.<recipe id>}), the
 * stage's name (on its dead letters), the Kafka settings, the one acknowledged publisher, and how consumers are made
 * (real ones in production, {@code MockConsumer}s in unit tests).
 */
public record StageContext(
        String service,
        String stage,
        KafkaSettings kafka,
        AcknowledgedPublisher publisher,
        Function<Map<String, Object>, Consumer<String, byte[]>> consumers,
        Duration retryBackoff) {

    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofSeconds(2);

    public static StageContext of(String service, String stage, KafkaSettings kafka, AcknowledgedPublisher publisher) {
        return new StageContext(service, stage, kafka, publisher, KafkaConsumer::new, DEFAULT_RETRY_BACKOFF);
    }

    Consumer<String, byte[]> consumer(String groupId, String clientId) {
        return consumers.apply(kafka.consumer(groupId, clientId));
    }
}
