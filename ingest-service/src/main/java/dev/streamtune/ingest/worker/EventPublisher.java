package dev.streamtune.ingest.worker;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.Outgoing;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Publishes conversations (keyed by conversation id) and dead letters (keyed by source) through the stage
 * framework's {@link AcknowledgedPublisher}, made from the service's {@code kafka.*} settings, and returns once
 * Kafka has acknowledged every one: an ingestion records a chunk as done only after this returns, so nothing it
 * reports as published can be lost.
 */
@ApplicationScoped
public class EventPublisher {

    private final Map<String, Object> kafka;
    private final IngestConfig config;

    private AcknowledgedPublisher publisher;

    public EventPublisher(@Identifier("default-kafka-broker") Map<String, Object> kafka, IngestConfig config) {
        this.kafka = kafka;
        this.config = config;
    }

    @PostConstruct
    void start() {
        publisher = AcknowledgedPublisher.create(new KafkaSettings(kafka), "ingest-service", config.publishTimeout());
    }

    @PreDestroy
    void stop() {
        publisher.close();
    }

    /** The one acknowledged publisher of the service, which the raw door's worker is also given. */
    AcknowledgedPublisher acknowledged() {
        return publisher;
    }

    /** Sends all and blocks until all are acknowledged; a {@code PublishException} when Kafka does not. */
    public void publish(List<Conversation> published, List<DeadLetter> rejected) {
        List<Outgoing> records = new ArrayList<>(published.size() + rejected.size());
        for (Conversation conversation : published) {
            records.add(new Outgoing(Topics.CONVERSATIONS, conversation.id(), conversation));
        }
        for (DeadLetter letter : rejected) {
            records.add(Outgoing.deadLetter(letter));
        }
        publisher.publish(records);
    }
}
