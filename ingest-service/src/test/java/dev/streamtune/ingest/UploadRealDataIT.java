package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Message;
import dev.streamtune.events.Role;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import dev.streamtune.testing.SharedData;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The real data sets of ../shared through the REST upload, the real broker and the real database. */
@QuarkusTest
class UploadRealDataIT {

    private static final ConversationDeserializer CONVERSATIONS = new ConversationDeserializer();

    @Test
    void shareGptUploadPublishesEveryConversationAndReingestingFindsOnlyDuplicates() throws Exception {
        Path file = SharedData.require("data/sharegpt/fastchat_dummy_conversation.json");
        String dataset = "sharegpt-" + UUID.randomUUID();

        IngestReceipt first = upload(dataset, file, "90/10");

        assertThat(first.records()).isEqualTo(500);
        assertThat(first.published()).isEqualTo(500);
        assertThat(first.rejected() + first.duplicates() + first.unused()).isZero();
        assertThat(first.balanced()).isTrue();
        assertThat(first.formats()).containsExactly(Map.entry("sharegpt", 500L));

        List<Conversation> published = conversationsOf(dataset);
        assertThat(published).hasSize(500);
        assertThat(published).extracting(Conversation::id).doesNotHaveDuplicates();
        for (Conversation conversation : published) {
            List<Role> roles =
                    conversation.messages().stream().map(Message::role).toList();
            assertThat(roles.get(0)).isEqualTo(Role.USER);
            assertThat(roles.get(roles.size() - 1)).isEqualTo(Role.ASSISTANT);
            for (int i = 1; i < roles.size(); i++) {
                assertThat(roles.get(i)).isNotEqualTo(roles.get(i - 1));
            }
            assertThat(conversation.format()).isEqualTo("sharegpt");
            assertThat(conversation.metadata().get("source_id").asText()).isNotBlank();
        }
        Map<Split, Long> splits =
                published.stream().collect(Collectors.groupingBy(Conversation::split, Collectors.counting()));
        assertThat(splits.keySet()).containsExactlyInAnyOrder(Split.TRAIN, Split.VALID);
        assertThat(splits.get(Split.VALID)).isBetween(25L, 80L); // 10% of 500, loosely
        assertThat(first.splits().get("train").get("published")).isEqualTo(splits.get(Split.TRAIN));

        // The same file again, into another dataset: every conversation is recognised by its content id, and each
        // duplicate is counted under the split its original was published in: the split is a function of the data.
        String again = "sharegpt-again-" + UUID.randomUUID();
        IngestReceipt second = upload(again, file, "90/10");
        assertThat(second.published()).isZero();
        assertThat(second.duplicates()).isEqualTo(500);
        assertThat(second.splits().get("train").get("duplicate")).isEqualTo(splits.get(Split.TRAIN));
        assertThat(second.splits().get("valid").get("duplicate")).isEqualTo(splits.get(Split.VALID));
        assertThat(conversationsOf(again)).isEmpty();

        Map<String, Object> registry = given().get("/datasets/" + dataset)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getMap("");
        Map<?, ?> totals = (Map<?, ?>) registry.get("totals");
        assertThat(((Number) totals.get("published")).longValue()).isEqualTo(500);
        assertThat(((Number) totals.get("records")).longValue()).isEqualTo(500);
        List<?> sources = (List<?>) registry.get("sources");
        assertThat(sources).hasSize(1);
        assertThat(((Map<?, ?>) sources.get(0)).get("source")).isEqualTo("fastchat_dummy_conversation.json");
        assertThat(((Map<?, ?>) ((Map<?, ?>) sources.get(0)).get("formats")).get("sharegpt"))
                .isEqualTo(500);
        List<?> ingestions = (List<?>) registry.get("recentIngestions");
        assertThat(((Map<?, ?>) ingestions.get(0)).get("status")).isEqualTo("completed");
    }

    @Test
    void alpacaUploadKeepsInstructionAndInputApartAndJoinsThemForChat() throws Exception {
        Path file = SharedData.require("data/alpaca/alpaca_data_sample.json");
        String dataset = "alpaca-" + UUID.randomUUID();
        List<Map<String, String>> rows = EventJson.mapper()
                .readValue(
                        file.toFile(),
                        EventJson.mapper().getTypeFactory().constructCollectionType(List.class, Map.class));

        IngestReceipt receipt = upload(dataset, file, "80/10/10");

        assertThat(receipt.records()).isEqualTo(rows.size());
        assertThat(receipt.published()).isEqualTo(rows.size());
        assertThat(receipt.balanced()).isTrue();
        List<Conversation> published = conversationsOf(dataset);
        assertThat(published).hasSize(rows.size());
        Map<String, Map<String, String>> byInstruction =
                rows.stream().collect(Collectors.toMap(r -> r.get("instruction") + "\u0000" + r.get("input"), r -> r));
        for (Conversation conversation : published) {
            Map<String, String> row =
                    byInstruction.get(conversation.instruction().instruction() + "\u0000"
                            + (conversation.instruction().input() == null
                                    ? ""
                                    : conversation.instruction().input()));
            assertThat(row).as("the original row of %s", conversation.id()).isNotNull();
            String expectedUser = row.get("input").isEmpty()
                    ? row.get("instruction")
                    : row.get("instruction") + "\n\n" + row.get("input");
            assertThat(conversation.messages())
                    .containsExactly(Message.user(expectedUser), Message.assistant(row.get("output")));
            assertThat(conversation.format()).isEqualTo("alpaca");
        }
        assertThat(published).extracting(Conversation::split).contains(Split.TRAIN, Split.VALID, Split.TEST);
    }

    static IngestReceipt upload(String dataset, Path file, String split) throws Exception {
        Response response = given().contentType("application/json")
                .body(Files.readAllBytes(file))
                .queryParam("split", split)
                .queryParam("source", file.getFileName().toString())
                .post("/datasets/" + dataset + "/records");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        return EventJson.mapper().readValue(response.asByteArray(), IngestReceipt.class);
    }

    static List<Conversation> conversationsOf(String dataset) {
        return TopicReader.readAll(
                        Topics.CONVERSATIONS, bytes -> CONVERSATIONS.deserialize(Topics.CONVERSATIONS, bytes))
                .stream()
                .filter(c -> c.dataset().equals(dataset))
                .toList();
    }
}
