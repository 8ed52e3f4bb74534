package dev.streamtune.tokenize.processor;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.TrainBatch;
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
 * Publishes batches (keyed by recipe id), evaluation examples (recipeId:conversationId) and dead letters, and waits
 * for Kafka's acknowledgement of every one before a worker moves its committed offsets.
 */
@ApplicationScoped
public class TokenizePublisher {

    @Inject
    @Channel(Topics.BATCHES)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    MutinyEmitter<TrainBatch> batches;

    @Inject
    @Channel(Topics.EVAL_EXAMPLES)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<EvalExample> evalExamples;

    @Inject
    @Channel(Topics.CONVERSATIONS_REJECTED)
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    MutinyEmitter<DeadLetter> deadLetters;

    public void publish(List<TrainBatch> trainBatches, List<EvalExample> evaluation, List<DeadLetter> rejected,
                        Duration timeout) {
        List<Uni<Void>> acks = new ArrayList<>();
        // Batches of one recipe go to one key, in order: sent one after another so that a retry cannot reorder them.
        for (TrainBatch batch : trainBatches) {
            batches.sendMessage(keyed(batch, batch.recipeId())).await().atMost(timeout);
        }
        for (EvalExample example : evaluation) {
            acks.add(evalExamples.sendMessage(keyed(example, example.recipeId() + ":" + example.conversationId())));
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
