package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Message;
import dev.streamtune.events.Split;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.normalize.ConversationId;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import dev.streamtune.ingest.split.SplitPolicy;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Split sizes, near duplicates, filters, OASST threads and request validation, end to end. */
@QuarkusTest
class IngestOptionsIT {

    @Test
    void sizeCapsFillInSeededShuffleOrderWhateverTheFileOrder() throws Exception {
        String tag = UUID.randomUUID().toString();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add("{\"instruction\":\"Question " + i + " " + tag + "\",\"output\":\"Answer " + i + "\"}");
        }
        Collections.shuffle(lines, new Random(7));
        String dataset = "sizes-" + tag;

        IngestReceipt receipt = upload(
                dataset, String.join("\n", lines), "application/x-ndjson", "split", "sizes:10/5/5", "seed", "1234");

        assertThat(receipt.published()).isEqualTo(20);
        assertThat(receipt.unused()).isEqualTo(10);
        assertThat(receipt.balanced()).isTrue();
        assertThat(receipt.unusedReasons()).containsEntry("beyond the split sizes train 10 / valid 5 / test 5", 10L);
        Map<Split, List<String>> bySplit = UploadRealDataIT.conversationsOf(dataset).stream()
                .collect(Collectors.groupingBy(
                        Conversation::split, Collectors.mapping(Conversation::id, Collectors.toList())));
        // Which conversations are taken is computed from ids alone: rank every conversation in the seeded shuffle;
        // the first 20 fill the caps, the file order plays no part. The caps fill together, in proportion: of the
        // first four in rank order, two go to train and one each to valid and test.
        List<String> ranked = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            ranked.add(ConversationId.of(
                    List.of(Message.user("Question " + i + " " + tag), Message.assistant("Answer " + i))));
        }
        ranked.sort(Comparator.comparingDouble(id -> SplitPolicy.rank(1234, id)));
        assertThat(bySplit.values().stream().flatMap(List::stream))
                .containsExactlyInAnyOrderElementsOf(ranked.subList(0, 20));
        assertThat(bySplit.get(Split.TRAIN)).hasSize(10);
        assertThat(bySplit.get(Split.VALID)).hasSize(5);
        assertThat(bySplit.get(Split.TEST)).hasSize(5);
        Map<Split, Long> firstFour = ranked.subList(0, 4).stream()
                .collect(Collectors.groupingBy(
                        id -> bySplit.entrySet().stream()
                                .filter(e -> e.getValue().contains(id))
                                .findFirst()
                                .orElseThrow()
                                .getKey(),
                        Collectors.counting()));
        assertThat(firstFour)
                .containsExactlyInAnyOrderEntriesOf(Map.of(Split.TRAIN, 2L, Split.VALID, 1L, Split.TEST, 1L));

        // The caps hold across ingestions of the same dataset: nothing more fits, and what was taken is a duplicate.
        IngestReceipt more = upload(
                dataset,
                "{\"instruction\":\"One more " + tag + "\",\"output\":\"No room.\"}",
                "application/x-ndjson",
                "split",
                "sizes:10/5/5",
                "seed",
                "1234");
        assertThat(more.unused()).isEqualTo(1);
        assertThat(more.published()).isZero();
        IngestReceipt again = upload(
                dataset, String.join("\n", lines), "application/x-ndjson", "split", "sizes:10/5/5", "seed", "1234");
        assertThat(again.duplicates()).isEqualTo(20);
        assertThat(again.unused()).isEqualTo(10);
        assertThat(again.balanced()).isTrue();
    }

    @Test
    void nearDuplicatesAreCountedWhenAskedFor() throws Exception {
        String tag = UUID.randomUUID().toString();
        String text = "The quick brown fox jumps over the lazy dog while the farmer watches from the old wooden gate "
                + "and the sun sets slowly behind the distant hills of the quiet valley " + tag;
        String nearCopy = text.replace("old wooden gate", "old wooden fence");
        String body = String.join(
                "\n",
                "{\"instruction\":\"Describe the scene.\",\"output\":\"" + text + "\"}",
                "{\"instruction\":\"Describe the scene.\",\"output\":\"" + text + "\"}",
                "{\"instruction\":\"Describe the scene.\",\"output\":\"" + nearCopy + "\"}",
                "{\"instruction\":\"Something else entirely " + tag
                        + "\",\"output\":\"A different answer altogether.\"}");

        IngestReceipt receipt = upload("near-" + tag, body, "application/x-ndjson", "nearDuplicates", "true");

        assertThat(receipt.records()).isEqualTo(4);
        assertThat(receipt.published()).isEqualTo(2);
        assertThat(receipt.duplicates()).isEqualTo(2);

        // Without near-duplicate detection the near copy is a conversation of its own (exact copies still go).
        String tag2 = UUID.randomUUID().toString();
        IngestReceipt exactOnly = upload("near-off-" + tag2, body.replace(tag, tag2), "application/x-ndjson");
        assertThat(exactOnly.published()).isEqualTo(3);
        assertThat(exactOnly.duplicates()).isEqualTo(1);
    }

    @Test
    void metadataFiltersLeaveRecordsUnusedWithTheReason() throws Exception {
        String tag = UUID.randomUUID().toString();
        String body = String.join(
                "\n",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a " + tag
                        + "\"},{\"role\":\"assistant\",\"content\":\"x\"}],\"metadata\":{\"augmented\":true}}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"b " + tag
                        + "\"},{\"role\":\"assistant\",\"content\":\"y\"}],\"metadata\":{\"augmented\":false}}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"c " + tag
                        + "\"},{\"role\":\"assistant\",\"content\":\"z\"}]}");

        IngestReceipt receipt =
                upload("filter-" + tag, body, "application/x-ndjson", "filter", "metadata.augmented==true");

        assertThat(receipt.published()).isEqualTo(1);
        assertThat(receipt.unused()).isEqualTo(2);
        assertThat(receipt.unusedReasons()).containsExactly(Map.entry("filter metadata.augmented==true", 2L));
    }

    @Test
    void oasstMessageRowsAreRebuiltIntoThreadsAndFilteredByLanguage() throws Exception {
        String tag = UUID.randomUUID().toString();
        String body = String.join(
                "\n",
                row("p1", null, "prompter", "Why is the sky blue? " + tag, "en", null),
                row("a1", "p1", "assistant", "Rayleigh scattering.", "en", 0),
                row("a2", "p1", "assistant", "Because.", "en", 1),
                row("f1", "a1", "prompter", "And at sunset?", "en", null),
                row("a3", "f1", "assistant", "Longer path, more scattering of blue.", "en", 0),
                row("p2", null, "prompter", "Warum ist der Himmel blau? " + tag, "de", null),
                row("b1", "p2", "assistant", "Streuung.", "de", 0),
                row("x1", "missing", "assistant", "An orphan.", "en", 0));

        IngestReceipt best = upload("oasst-" + tag, body, "application/x-ndjson", "lang", "en");

        assertThat(best.records()).isEqualTo(3); // two trees and one orphan
        assertThat(best.published()).isEqualTo(1);
        assertThat(best.unused()).isEqualTo(1);
        assertThat(best.rejected()).isEqualTo(1);
        assertThat(best.rejections().get(0).reason())
                .contains("OASST message x1 replies to missing, which is not among the rows of its tree t");
        Conversation thread = UploadRealDataIT.conversationsOf("oasst-" + tag).get(0);
        assertThat(thread.messages())
                .containsExactly(
                        Message.user("Why is the sky blue? " + tag),
                        Message.assistant("Rayleigh scattering."),
                        Message.user("And at sunset?"),
                        Message.assistant("Longer path, more scattering of blue."));

        IngestReceipt all = upload(
                "oasst-all-" + tag,
                body.replace(tag, tag + "-all"),
                "application/x-ndjson",
                "lang",
                "en",
                "oasstPaths",
                "all");
        assertThat(all.published()).isEqualTo(2); // p1-a1-f1-a3 and p1-a2
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        assertError(
                given().contentType("application/json").body("[]").queryParam("splt", "80/20"),
                400,
                "unknown query parameter 'splt'");
        assertError(
                given().contentType("application/json").body("[]").queryParam("split", "50/30"),
                400,
                "split ratios must be non-negative and add up to 1");
        assertError(
                given().contentType("application/json").body("[]").queryParam("format", "yaml"),
                400,
                "unknown format 'yaml'");
        assertError(given().contentType("application/json").body(""), 400, "the request body is empty");
        Response badName = given().contentType("application/json").body("[]").post("/datasets/..%2Fx/records");
        assertThat(badName.statusCode()).isIn(400, 404);
    }

    @Test
    void healthMetricsAndOpenApiAreServed() throws Exception {
        upload(
                "metrics-" + UUID.randomUUID(),
                "{\"text\":\"metrics " + UUID.randomUUID() + "\"}",
                "application/x-ndjson");

        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("ingest_records_total{").contains("outcome=\"published\"");
        assertThat(given().get("/q/openapi").then().statusCode(200).extract().asString())
                .contains("/datasets/{name}/records");
    }

    private static void assertError(RequestSpecification request, int status, String message) {
        Response response = request.post("/datasets/bad-requests/records");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(status);
        assertThat(response.contentType()).isEqualTo("application/problem+json");
        assertThat(response.jsonPath().getString("detail")).contains(message);
    }

    private static String row(String id, String parent, String role, String text, String lang, Integer rank) {
        return "{\"message_id\":\"" + id + "\",\"parent_id\":" + (parent == null ? "null" : "\"" + parent + "\"")
                + ",\"message_tree_id\":\"t\",\"role\":\"" + role + "\",\"text\":\"" + text + "\",\"lang\":\"" + lang
                + "\",\"rank\":" + rank + "}";
    }

    static IngestReceipt upload(String dataset, String body, String contentType, String... parameters)
            throws Exception {
        RequestSpecification request = given().contentType(contentType).body(body.getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < parameters.length; i += 2) {
            request = request.queryParam(parameters[i], parameters[i + 1]);
        }
        Response response = request.post("/datasets/" + dataset + "/records");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        return EventJson.mapper().readValue(response.asByteArray(), IngestReceipt.class);
    }
}
