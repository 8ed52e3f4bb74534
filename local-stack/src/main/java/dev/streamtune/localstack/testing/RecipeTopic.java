package dev.streamtune.localstack.testing;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EventSerializer;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes a recipe straight to the compacted {@code recipes} topic, for tests of the stages before the trainer
 * that run without it. Users, and anything that runs the trainer, submit recipes through its {@code POST /recipes},
 * which checks them against their model first.
 */
public final class RecipeTopic {

    private RecipeTopic() {}

    public static void publish(String bootstrapServers, Recipe recipe) throws Exception {
        byte[] value = new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(bootstrapServers)) {
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipe.id(), value))
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /** The tombstone that retires a recipe in every stage. */
    public static void delete(String bootstrapServers, String recipeId) throws Exception {
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(bootstrapServers)) {
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipeId, null)).get(30, TimeUnit.SECONDS);
        }
    }
}
