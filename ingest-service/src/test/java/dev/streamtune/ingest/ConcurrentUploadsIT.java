package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Message;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.normalize.ConversationId;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two uploads of the same file at the same moment: whichever claims a conversation first publishes it, the other
 * counts it as a duplicate, so every conversation reaches {@code conversations} exactly once.
 */
@QuarkusTest
class ConcurrentUploadsIT {

    private static final int CONVERSATIONS = 2000;

    @TestHTTPResource("/")
    URI base;

    @Test
    void theSameFileUploadedTwiceAtOncePublishesEachConversationOnce() throws Exception {
        String tag = UUID.randomUUID().toString();
        String dataset = "concurrent-" + tag;
        List<String> lines = new ArrayList<>();
        List<String> expectedIds = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
            lines.add("{\"instruction\":\"Question " + i + " " + tag + "\",\"output\":\"Answer " + i + "\"}");
            expectedIds.add(ConversationId.of(
                    List.of(Message.user("Question " + i + " " + tag), Message.assistant("Answer " + i))));
        }
        byte[] file = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);

        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService uploaders = Executors.newFixedThreadPool(2);
        IngestReceipt first;
        IngestReceipt second;
        try {
            Future<IngestReceipt> a = uploaders.submit(uploadWhenAllReady(base, together, dataset, "same-file", file));
            Future<IngestReceipt> b = uploaders.submit(uploadWhenAllReady(base, together, dataset, "same-file", file));
            first = a.get(3, TimeUnit.MINUTES);
            second = b.get(3, TimeUnit.MINUTES);
        } finally {
            uploaders.shutdownNow();
        }

        List<String> published = UploadRealDataIT.conversationsOf(dataset).stream()
                .map(Conversation::id)
                .toList();
        assertThat(published).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expectedIds);

        for (IngestReceipt receipt : List.of(first, second)) {
            assertThat(receipt.records()).isEqualTo(CONVERSATIONS);
            assertThat(receipt.balanced()).isTrue();
            assertThat(receipt.rejected() + receipt.unused()).isZero();
        }
        assertThat(first.published() + second.published()).isEqualTo(CONVERSATIONS);
        assertThat(first.duplicates() + second.duplicates()).isEqualTo(CONVERSATIONS);

        Map<String, Object> totals = given().get("/datasets/" + dataset)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getMap("totals");
        assertThat(totals)
                .containsEntry("records", 2 * CONVERSATIONS)
                .containsEntry("published", CONVERSATIONS)
                .containsEntry("duplicates", CONVERSATIONS);
    }

    /** One upload through the REST door, sent once every other uploader at the barrier is ready too. */
    static Callable<IngestReceipt> uploadWhenAllReady(
            URI base, CyclicBarrier together, String dataset, String source, byte[] file) {
        return () -> {
            HttpRequest request = HttpRequest.newBuilder(
                            base.resolve("/datasets/" + dataset + "/records?source=" + source))
                    .header("Content-Type", "application/x-ndjson")
                    .timeout(Duration.ofMinutes(2))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(file))
                    .build();
            HttpClient client = HttpClient.newHttpClient();
            together.await(1, TimeUnit.MINUTES);
            HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            assertThat(response.statusCode())
                    .as(new String(response.body(), StandardCharsets.UTF_8))
                    .isEqualTo(200);
            return EventJson.mapper().readValue(response.body(), IngestReceipt.class);
        };
    }
}
