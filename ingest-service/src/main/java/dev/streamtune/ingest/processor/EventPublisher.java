package dev.streamtune.ingest.processor;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

/**
 * Publishes conversations and dead letters and waits until Kafka has acknowledged every one: an ingestion records
 * a chunk as done only after this returns, so nothing it reports as published can be lost.
 */
@ApplicationScoped
public class EventPublisher {

    @Inject
    @Channel(Topics.CONVERSATIONS)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<Conversation> conversations;

    @Inject
    @Channel(Topics.CONVERSATIONS_REJECTED)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<DeadLetter> deadLetters;

    /** Sends all, keyed by conversation id and by each dead letter's own key, and blocks until all are acknowledged. */
    public void publish(List<Conversation> published, List<DeadLetter> rejected, Duration timeout) {
        List<Uni<Void>> acks = new ArrayList<>(published.size() + rejected.size());
        for (Conversation conversation : published) {
            acks.add(conversations.sendMessage(keyed(conversation, conversation.id())));
        }
        for (DeadLetter letter : rejected) {
            acks.add(deadLetters.sendMessage(keyed(letter, letter.key())));
        }
        if (!acks.isEmpty()) {
            Uni.join().all(acks).andFailFast().await().atMost(timeout);
        }
    }

    private static <T> Message<T> keyed(T payload, String key) {
        return Message.of(payload).addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(key).build());
    }
}
