package dev.streamtune.format.processor;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
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
 * Publishes examples (keyed recipeId:conversationId) and dead letters (keyed by source) and waits until Kafka has
 * acknowledged every one: a worker commits its input offsets only after this returns, so nothing is lost.
 */
@ApplicationScoped
public class ExamplePublisher {

    @Inject
    @Channel(Topics.EXAMPLES)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<FormattedExample> examples;

    @Inject
    @Channel(Topics.CONVERSATIONS_REJECTED)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<DeadLetter> deadLetters;

    public void publish(List<FormattedExample> formatted, List<DeadLetter> rejected, Duration timeout) {
        List<Uni<Void>> acks = new ArrayList<>(formatted.size() + rejected.size());
        for (FormattedExample example : formatted) {
            acks.add(examples.sendMessage(keyed(example, example.key())));
        }
        for (DeadLetter letter : rejected) {
            acks.add(deadLetters.sendMessage(keyed(letter, letter.source() == null ? letter.recipeId() : letter.source().describe())));
        }
        if (!acks.isEmpty()) {
            Uni.join().all(acks).andFailFast().await().atMost(timeout);
        }
    }

    private static <T> Message<T> keyed(T payload, String key) {
        return Message.of(payload).addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(key).build());
    }
}
