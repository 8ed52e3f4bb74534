package dev.streamtune.tokenize.worker;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Segment;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.Producers;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Through the real broker, with the service's producers limited to 64 KiB records: a recipe whose batches could
 * not be sent is a dead letter naming micro_batch_size, max_seq_length, the size and the limit, instead of a
 * worker that would produce, be refused and start over forever; a recipe whose batches fit goes on beside it.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@TestProfile(OversizeBatchIT.SmallRecords.class)
class OversizeBatchIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final int LIMIT = 64 * 1024;

    public static class SmallRecords implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("kafka.max.request.size", String.valueOf(LIMIT));
        }
    }

    @Test
    void aRecipeWhoseBatchesExceedTheRecordLimitIsADeadLetterWhileAnotherGoesOn() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String huge = "huge-" + suffix;
        String small = "small-" + suffix;
        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            publishRecipe(producer, huge, 16, 512); // 16 x 512 tokens: about 136 KB a batch
            publishRecipe(producer, small, 2, 64);
            String first = send(producer, example(huge, "c1"));
            List<String> train = List.of(send(producer, example(small, "c1")), send(producer, example(small, "c2")));

            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(deadLettersOf(huge))
                            .singleElement()
                            .satisfies(letter -> {
                                assertThat(letter.field()).isEqualTo("training_config.per_device_train_batch_size");
                                assertThat(letter.reason())
                                        .contains(
                                                "recipe " + huge + " cannot be carried out by tokenize-service",
                                                "micro_batch_size (per_device_train_batch_size) 16 rows",
                                                "max_seq_length 512",
                                                String.format(
                                                        Locale.ROOT,
                                                        "up to %,d bytes",
                                                        TrainBatch.largestSize(16, 512)),
                                                "maximum record size of 65,536 bytes");
                            }));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(batchedKeys(small)).containsExactlyInAnyOrderElementsOf(train));
            assertThat(deadLettersOf(small)).isEmpty();
            assertThat(batchedKeys(huge)).doesNotContain(first).isEmpty();
            given().get("/recipes/" + huge).then().statusCode(404);
        }
    }

    private static void publishRecipe(KafkaProducer<String, byte[]> producer, String id, int rows, int length)
            throws Exception {
        String json = """
                {"schemaVersion": 1, "id": "%s", "model_config": {"tokenizer": "r50k_base"},
                 "data_config": {"format_type": "chatml", "max_seq_length": %d, "packing": true},
                 "training_config": {"per_device_train_batch_size": %d, "finetuning_type": "lora"}}
                """.formatted(id, length, rows);
        producer.send(new ProducerRecord<>(Topics.RECIPES, id, json.getBytes(StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
    }

    private static FormattedExample example(String recipe, String conversation) {
        return new FormattedExample(
                FormattedExample.SCHEMA_VERSION,
                recipe,
                conversation,
                "chats",
                Split.TRAIN,
                "chatml",
                List.of(
                        new Segment("<|im_start|>user\n", false, true),
                        new Segment("Why?", false),
                        new Segment("<|im_end|>\n<|im_start|>assistant\n", false, true),
                        new Segment("Because.", true),
                        new Segment("<|im_end|>", true, true)),
                "Because.",
                null);
    }

    private static String send(KafkaProducer<String, byte[]> producer, FormattedExample example) throws Exception {
        byte[] value = new EventSerializer<FormattedExample>().serialize(Topics.EXAMPLES, example);
        producer.send(new ProducerRecord<>(Topics.EXAMPLES, example.key(), value))
                .get(30, TimeUnit.SECONDS);
        return example.key();
    }

    private static List<String> batchedKeys(String recipe) {
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.BATCHES).stream()
                .filter(r -> recipe.equals(r.key()))
                .map(r -> batches.deserialize(Topics.BATCHES, r.value()))
                .flatMap(b -> b.exampleKeys().stream())
                .toList();
    }

    private static List<DeadLetter> deadLettersOf(String recipe) {
        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                .map(r -> letters.deserialize(Topics.CONVERSATIONS_REJECTED, r.value()))
                .filter(l -> recipe.equals(l.recipeId()))
                .toList();
    }
}
