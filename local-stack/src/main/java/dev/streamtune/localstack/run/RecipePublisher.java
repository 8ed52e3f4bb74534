package dev.streamtune.localstack.run;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.localstack.testing.Producers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes a recipe file (YAML or JSON) to the compacted {@code recipes} topic, keyed by its id, after checking it
 * with {@link RecipeParser}; or deletes one with a tombstone. Until the trainer owns recipe submission
 * ({@code POST /recipes}), this is how a recipe reaches the stages.
 *
 * <pre>
 * java ... RecipePublisher BOOTSTRAP_SERVERS FILE       publish (warnings printed, problems refuse it)
 * java ... RecipePublisher BOOTSTRAP_SERVERS --delete ID
 * </pre>
 */
public final class RecipePublisher {

    private RecipePublisher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || (args[1].equals("--delete") && args.length < 3)) {
            System.err.println("usage: RecipePublisher BOOTSTRAP_SERVERS FILE | BOOTSTRAP_SERVERS --delete ID");
            System.exit(2);
        }
        if (args[1].equals("--delete")) {
            delete(args[0], args[2]);
            System.out.println("deleted recipe " + args[2]);
            return;
        }
        try {
            RecipeParser.Result result = read(Path.of(args[1]));
            result.warnings().forEach(warning -> System.out.println("warning: " + warning));
            publish(args[0], result.recipe());
            System.out.println("published recipe " + result.recipe().id());
        } catch (RecipeException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    public static RecipeParser.Result read(Path file) throws java.io.IOException {
        return RecipeParser.parse(Files.readString(file), file.toString());
    }

    public static void publish(String bootstrapServers, Recipe recipe) throws Exception {
        byte[] value = new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe);
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(bootstrapServers)) {
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipe.id(), value)).get(30, TimeUnit.SECONDS);
        }
    }

    public static void delete(String bootstrapServers, String recipeId) throws Exception {
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(bootstrapServers)) {
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipeId, null)).get(30, TimeUnit.SECONDS);
        }
    }

}
