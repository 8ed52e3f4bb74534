package dev.streamtune.format.worker;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Segment;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.Producers;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Through the real broker: conversations published before a recipe are formatted once it arrives (its worker
 * reads the topic from the start), later ones follow, a conversation the template cannot render is dead-lettered,
 * other datasets are skipped and counted, a tombstone stops the recipe, and a recipe this stage cannot format is a
 * dead letter naming its field.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class FormatPipelineIT {

    private static final FormattedExampleDeserializer EXAMPLES = new FormattedExampleDeserializer();
    private static final DeadLetterDeserializer DEAD_LETTERS = new DeadLetterDeserializer();
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @Test
    void formatsEveryConversationOfItsDatasetsAndAccountsForTheRest() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "chats-" + run;
        String recipe = "recipe-" + run;
        // Under the service's model root (its working folder in tests): a recipe's model path never leads outside it.
        Path model = Files.createDirectories(Path.of("target", "models-" + run));
        Files.writeString(
                model.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|endoftext|>\", \"bos_token\": null}");

        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (int i = 0; i < 3; i++) {
                send(
                        producer,
                        conversation(
                                dataset,
                                "early " + i + " " + run,
                                Message.user("Question " + i + "?"),
                                Message.assistant("Answer " + i + ".")));
            }
            send(
                    producer,
                    conversation(
                            dataset,
                            "tool " + run,
                            Message.user("Weather?"),
                            new Message(Role.TOOL, "sunny"),
                            Message.assistant("Sunny.")));
            send(
                    producer,
                    conversation("elsewhere-" + run, "other " + run, Message.user("Hi"), Message.assistant("Hello")));

            publishRecipe(
                    producer, recipe, """
                    {"schemaVersion": 1, "id": "%s", "name": "format test",
                     "model_config": {"pretrained_model_name_or_path": "%s"},
                     "data_config": {"datasets": [{"name": "%s", "weight": 1.0}], "format_type": "chat",
                                     "system_prompt": "Be brief.", "train_on": "assistant"}}
                    """.formatted(recipe, model.toString().replace("\\", "/"), dataset));

            await().atMost(PATIENCE).untilAsserted(() -> {
                assertThat(examplesOf(recipe)).hasSize(3);
                assertThat(deadLettersOf(recipe)).hasSize(1);
            });
            FormattedExample first = examplesOf(recipe).stream()
                    .filter(e -> e.conversationId().equals("early 0 " + run))
                    .findFirst()
                    .orElseThrow();
            assertThat(first.text()).isEqualTo("Be brief.\n\nHuman: Question 0?\nAssistant: Answer 0.<|endoftext|>\n");
            assertThat(first.segments())
                    .filteredOn(Segment::trainable)
                    .extracting(Segment::text)
                    .containsExactly("Answer 0.", "<|endoftext|>");
            assertThat(first.template()).isEqualTo("chat");
            assertThat(first.referenceResponse()).isEqualTo("Answer 0.");
            assertThat(first.dataset()).isEqualTo(dataset);
            assertThat(deadLettersOf(recipe).get(0).reason())
                    .contains("tool " + run)
                    .contains("role tool")
                    .contains("recipe " + recipe);
            assertThat(deadLettersOf(recipe).get(0).stage()).isEqualTo("format");

            // Every conversation on the topic is accounted for: formatted, rejected or skipped.
            await().atMost(PATIENCE).untilAsserted(() -> {
                var status = given().get("/recipes/" + recipe)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath();
                int onTopic = TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS)
                        .size();
                assertThat(status.getLong("formatted") + status.getLong("rejected") + status.getLong("skipped"))
                        .isEqualTo(onTopic);
                assertThat(status.getLong("formatted")).isEqualTo(3);
            });
            assertThat(given().get("/q/metrics").asString())
                    .containsPattern("format_records_total\\{[^}]*outcome=\"formatted\"[^}]*recipe=\"" + recipe
                            + "\"[^}]*} 3\\.0");
            // the framework's lag gauge: nothing of the topic left unread by the recipe's worker
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(given().get("/q/metrics").asString())
                            .containsPattern("stage_lag_records\\{recipe=\"" + recipe + "\",stage=\"format\"} 0\\.0"));

            // New conversations follow.
            send(producer, conversation(dataset, "late " + run, Message.user("More?"), Message.assistant("Yes.")));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(examplesOf(recipe)).hasSize(4));

            // A tombstone stops the recipe: a second recipe on the same dataset sees the next conversation, the
            // deleted one does not.
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipe, null)).get(30, TimeUnit.SECONDS);
            await().atMost(PATIENCE)
                    .until(() -> given().get("/recipes/" + recipe).statusCode() == 404);
            String second = recipe + "-b";
            publishRecipe(producer, second, """
                    {"schemaVersion": 1, "id": "%s", "data_config": {"datasets": [{"name": "%s"}], "format_type": "chatml"}}
                    """.formatted(second, dataset));
            send(
                    producer,
                    conversation(dataset, "after " + run, Message.user("Still there?"), Message.assistant("No.")));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(examplesOf(second))
                            .extracting(FormattedExample::conversationId)
                            .contains("after " + run));
            assertThat(examplesOf(recipe))
                    .extracting(FormattedExample::conversationId)
                    .doesNotContain("after " + run);

            // A recipe this stage cannot format says why.
            String broken = recipe + "-broken";
            publishRecipe(producer, broken, """
                    {"schemaVersion": 1, "id": "%s", "data_config": {"format_type": "klingon"}}
                    """.formatted(broken));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(deadLettersOf(broken))
                            .singleElement()
                            .extracting(DeadLetter::reason)
                            .asString()
                            .contains("data_config.format_type 'klingon'"));
        }
    }

    private static Conversation conversation(String dataset, String id, Message... messages) {
        return new Conversation(
                Conversation.SCHEMA_VERSION,
                id,
                dataset,
                SourceRef.inFile(SourceRef.Kind.UPLOAD, "test", 1, 1),
                Split.TRAIN,
                List.of(messages),
                null,
                "sharegpt",
                null,
                null);
    }

    private static void send(KafkaProducer<String, byte[]> producer, Conversation conversation) throws Exception {
        byte[] value = new EventSerializer<Conversation>().serialize(Topics.CONVERSATIONS, conversation);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.CONVERSATIONS, conversation.id(), value);
        record.headers().add(Topics.Headers.DATASET, conversation.dataset().getBytes(StandardCharsets.UTF_8));
        producer.send(record).get(30, TimeUnit.SECONDS);
    }

    private static void publishRecipe(KafkaProducer<String, byte[]> producer, String id, String json) throws Exception {
        producer.send(new ProducerRecord<>(Topics.RECIPES, id, json.getBytes(StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
    }

    private static List<FormattedExample> examplesOf(String recipe) {
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.EXAMPLES).stream()
                .map(r -> EXAMPLES.deserialize(Topics.EXAMPLES, r.value()))
                .filter(e -> e.recipeId().equals(recipe))
                .collect(Collectors.toMap(FormattedExample::key, e -> e, (a, b) -> b))
                .values()
                .stream()
                .toList();
    }

    private static List<DeadLetter> deadLettersOf(String recipe) {
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                .map(r -> DEAD_LETTERS.deserialize(Topics.CONVERSATIONS_REJECTED, r.value()))
                .filter(letter -> recipe.equals(letter.recipeId()))
                .toList();
    }

    private static KafkaProducer<String, byte[]> producer() {
        return Producers.bytes(Infrastructure.kafkaBootstrapServers());
    }
}
