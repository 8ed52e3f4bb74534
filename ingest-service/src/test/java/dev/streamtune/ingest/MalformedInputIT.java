package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The malformed-input corpus (src/test/resources/malformed, plus bytes no text file can hold): every record is
 * either published or dead-lettered with the reason a person needs, and in = published + rejected + duplicates +
 * unused for every file.
 */
@QuarkusTest
class MalformedInputIT {

    private static final DeadLetterDeserializer DEAD_LETTERS = new DeadLetterDeserializer();

    @Test
    void truncatedJsonKeepsTheCompleteRecordsAndRejectsTheCutOne() throws IOException {
        Outcome outcome = upload("truncated.json", resource("truncated.json"), "application/json");

        outcome.assertCounts(3, 2, 1);
        outcome.assertReasons("line 4: record 3 is incomplete: the file ends inside it (truncated?)");
    }

    @Test
    void wrongTypesNameTheFieldAndWhatWasExpected() throws IOException {
        Outcome outcome = upload("wrong-types.jsonl", resource("wrong-types.jsonl"), "application/x-ndjson");

        outcome.assertCounts(5, 1, 4);
        outcome.assertReasons(
                "line 2: field 'output': expected a string, found a number (6)",
                "line 3: field 'conversations': expected a list, found an object",
                "line 4: field 'messages[0].content': expected a string, found a number (42)",
                "line 5: field 'instruction': expected a string, found a list");
        assertThat(outcome.letters())
                .extracting(DeadLetter::field)
                .containsExactly("output", "conversations", "messages[0].content", "instruction");
    }

    @Test
    void emptyAndContentlessConversationsAreRejected() throws IOException {
        Outcome outcome =
                upload("empty-conversations.jsonl", resource("empty-conversations.jsonl"), "application/x-ndjson");

        outcome.assertCounts(6, 1, 5);
        outcome.assertReasons(
                "line 1: conversation has no messages",
                "line 2: message 1 (user) has empty content",
                "line 3: message 2 (assistant) has empty content",
                "line 4: conversation has no user or assistant turn",
                "line 5: conversation ends with a user turn; SFT needs a final assistant turn"
                        + " (set requireAssistantLast=false to keep such conversations)");
    }

    @Test
    void unknownRolesAreRejectedWithTheWayToMapThem() throws IOException {
        Outcome outcome = upload("unknown-roles.jsonl", resource("unknown-roles.jsonl"), "application/x-ndjson");

        outcome.assertCounts(3, 1, 2);
        assertThat(outcome.letters().get(0).reason())
                .startsWith("line 1: field 'conversations[0].from': unknown role 'narrator'; expected one of ")
                .endsWith("(or map it, e.g. role=narrator=assistant)");
        assertThat(outcome.letters().get(1).reason())
                .startsWith("line 2: field 'messages[1].role': unknown role 'critic'");
    }

    @Test
    void aJsonObjectInsteadOfAListIsRefusedWithTheUsualMessage() throws IOException {
        Outcome outcome = upload("object-root.json", resource("object-root.json"), "application/json");

        outcome.assertCounts(1, 0, 1);
        assertThat(outcome.letters().get(0).reason())
                .startsWith("line 1: JSON file must contain a list of objects, found an object at the root");
    }

    @Test
    void aCsvMissingAColumnRejectsEveryRowSayingWhatItHas() throws IOException {
        Outcome outcome = upload("missing-column.csv", resource("missing-column.csv"), "text/csv");

        outcome.assertCounts(2, 0, 2);
        assertThat(outcome.letters())
                .allSatisfy(letter -> assertThat(letter.reason())
                        .contains("cannot tell the format of a record with fields [input, instruction]"));
        assertThat(outcome.letters()).extracting(l -> l.source().line()).containsExactly(2L, 3L);
    }

    @Test
    void aCsvRowWithTooFewValuesIsRejectedAndQuotedLinesSurvive() throws IOException {
        Outcome outcome = upload("short-row.csv", resource("short-row.csv"), "text/csv");

        outcome.assertCounts(3, 2, 1);
        outcome.assertReasons("line 3: row has 2 values but the header has 3 columns [instruction, input, output]");
        assertThat(outcome.published())
                .extracting(c -> c.messages().get(0).content())
                .contains("Say hello, politely.", "Write a line\nover two lines.");
    }

    @Test
    void invalidUtf8IsRejectedOnItsLineAndTheNextLinesAreRead() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(line("{\"text\": \"valid line one " + UUID.randomUUID() + "\"}"));
        file.writeBytes("{\"text\": \"bad \u00ff byte\"}\n".getBytes(StandardCharsets.ISO_8859_1)); // 0xFF alone
        file.writeBytes(line("{\"text\": \"valid line three " + UUID.randomUUID() + "\"}"));

        Outcome outcome = upload("invalid-utf8.jsonl", file.toByteArray(), "application/x-ndjson");

        outcome.assertCounts(3, 2, 1);
        outcome.assertReasons("line 2: invalid UTF-8 at byte 15 of the record (0xFF); the file must be UTF-8");
    }

    @Test
    void invalidUtf8InsideAJsonListRejectsOnlyThatElement() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(("[{\"text\": \"first " + UUID.randomUUID() + "\"},\n").getBytes(StandardCharsets.UTF_8));
        file.writeBytes("{\"text\": \"\u00c3\u0028 broken\"},\n".getBytes(StandardCharsets.ISO_8859_1)); // C3 28
        file.writeBytes(("{\"text\": \"third " + UUID.randomUUID() + "\"}]").getBytes(StandardCharsets.UTF_8));

        Outcome outcome = upload("invalid-utf8.json", file.toByteArray(), "application/json");

        outcome.assertCounts(3, 2, 1);
        assertThat(outcome.letters().get(0).reason()).startsWith("line 2: invalid UTF-8 at byte 11 of the record");
    }

    @Test
    void aTenMegabyteLineIsRejectedWithoutStoppingTheFile() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(line("{\"text\": \"before the big one " + UUID.randomUUID() + "\"}"));
        String big = "{\"text\": \"" + "x".repeat(10 * 1024 * 1024) + "\"}";
        file.writeBytes(line(big));
        file.writeBytes(line("{\"text\": \"after the big one " + UUID.randomUUID() + "\"}"));

        Outcome outcome = upload("big-line.jsonl", file.toByteArray(), "application/x-ndjson");

        outcome.assertCounts(3, 2, 1);
        outcome.assertReasons("line 2: record is " + big.length() + " bytes, over the limit of 1048576 bytes"
                + " (ingest.max-record-size)");
        DeadLetter letter = outcome.letters().get(0);
        assertThat(letter.payloadTruncated()).isTrue();
        assertThat(letter.payloadBytes()).isEqualTo(big.length());
        assertThat(letter.payload().length()).isLessThanOrEqualTo(16 * 1024);
    }

    /** The receipt, the dead letters and the conversations one upload produced. */
    record Outcome(IngestReceipt receipt, List<DeadLetter> letters, List<Conversation> published, String file) {

        void assertCounts(long records, long published, long rejected) {
            assertThat(receipt.records()).as("records of " + file).isEqualTo(records);
            assertThat(receipt.published()).as("published of " + file).isEqualTo(published);
            assertThat(receipt.rejected()).as("rejected of " + file).isEqualTo(rejected);
            assertThat(receipt.balanced()).isTrue();
            assertThat(letters).as("dead letters of " + file).hasSize((int) rejected);
            assertThat(this.published).as("conversations of " + file).hasSize((int) published);
            assertThat(letters).allSatisfy(letter -> {
                assertThat(letter.stage()).isEqualTo("ingest");
                assertThat(letter.source().name()).isEqualTo(file);
            });
        }

        void assertReasons(String... reasons) {
            assertThat(letters).extracting(DeadLetter::reason).containsExactly(reasons);
            assertThat(receipt.rejections())
                    .extracting(IngestReceipt.Rejection::reason)
                    .containsExactly(reasons);
        }
    }

    private static Outcome upload(String file, byte[] body, String contentType) throws IOException {
        String dataset = "malformed-" + UUID.randomUUID();
        Response response = given().contentType(contentType)
                .body(body)
                .queryParam("source", file)
                .post("/datasets/" + dataset + "/records");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        IngestReceipt receipt = EventJson.mapper().readValue(response.asByteArray(), IngestReceipt.class);
        List<DeadLetter> letters = TopicReader.readAll(
                        Topics.CONVERSATIONS_REJECTED,
                        bytes -> DEAD_LETTERS.deserialize(Topics.CONVERSATIONS_REJECTED, bytes))
                .stream()
                .filter(letter -> dataset.equals(letter.dataset()))
                .sorted(Comparator.comparing(letter -> letter.source().record()))
                .toList();
        return new Outcome(receipt, letters, UploadRealDataIT.conversationsOf(dataset), file);
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MalformedInputIT.class.getResourceAsStream("/malformed/" + name)) {
            return in.readAllBytes();
        }
    }

    private static byte[] line(String text) {
        return (text + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
