package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.ingest.pipeline.IngestReceipt;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.testing.Producers;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * A split belongs to the dataset: its first ingestion fixes it, every door follows it, and size caps fill together
 * across uploads of any size, one after another or at once.
 */
@QuarkusTest
class DatasetSplitsIT {

    @TestHTTPResource("/")
    URI base;

    @Test
    void uploadsOfDifferentSizesInSequenceFillTheCapsTogether() throws Exception {
        String tag = UUID.randomUUID().toString();
        String dataset = "sequence-" + tag;

        IngestReceipt first = upload(dataset, conversations(tag, 0, 7), "split", "sizes:20/4/4", "seed", "7");
        assertThat(first.published()).isEqualTo(7);
        // Seven of the 28 places: a quarter of each cap, validation and test included.
        assertThat(perSplit(dataset))
                .containsExactlyInAnyOrderEntriesOf(Map.of(Split.TRAIN, 5L, Split.VALID, 1L, Split.TEST, 1L));

        IngestReceipt second = upload(dataset, conversations(tag, 7, 10));
        assertThat(second.splitPolicy()).isEqualTo("sizes:20/4/4 seed 7");
        assertThat(second.published()).isEqualTo(3);
        Map<Split, Long> afterTen = perSplit(dataset);
        assertThat(afterTen.get(Split.TRAIN)).isBetween(7L, 8L);
        assertThat(afterTen.get(Split.VALID)).isBetween(1L, 2L);
        assertThat(afterTen.get(Split.TEST)).isBetween(1L, 2L);

        IngestReceipt third = upload(dataset, conversations(tag, 10, 40));
        assertThat(third.published()).isEqualTo(18);
        assertThat(third.unused()).isEqualTo(12);
        assertThat(perSplit(dataset))
                .containsExactlyInAnyOrderEntriesOf(Map.of(Split.TRAIN, 20L, Split.VALID, 4L, Split.TEST, 4L));

        // Once the caps are full, what the dataset holds already is a duplicate, not unused.
        IngestReceipt again = upload(dataset, conversations(tag, 0, 7));
        assertThat(again.duplicates()).isEqualTo(7);
        assertThat(again.unused()).isZero();
        for (IngestReceipt receipt : List.of(first, second, third, again)) {
            assertThat(receipt.balanced()).isTrue();
        }
        Map<String, Object> detail = given().get("/datasets/" + dataset)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getMap("");
        assertThat(detail).containsEntry("split", "sizes:20/4/4 seed 7");
    }

    @Test
    void anUploadAskingForAnotherSplitIsRefusedNamingTheDatasetsOwn() throws Exception {
        String tag = UUID.randomUUID().toString();
        String dataset = "conflict-" + tag;
        upload(dataset, conversations(tag, 0, 5), "split", "80/10/10", "seed", "3");

        Response refused = given().contentType("application/x-ndjson")
                .body(conversations(tag, 5, 8).getBytes(StandardCharsets.UTF_8))
                .queryParam("split", "sizes:2/1/1")
                .post("/datasets/" + dataset + "/records");

        assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(409);
        assertThat(refused.jsonPath().getString("detail"))
                .contains(
                        "dataset '" + dataset + "' is split 0.8/0.1/0.1 seed 3",
                        "asks for sizes:2/1/1 seed",
                        "Leave out split and seed");
        assertThat(UploadRealDataIT.conversationsOf(dataset)).hasSize(5);
        // The same split asked again is no conflict.
        assertThat(upload(dataset, conversations(tag, 5, 8), "split", "80/10/10", "seed", "3")
                        .published())
                .isEqualTo(3);
    }

    @Test
    void uploadsOfDifferentSizesAtOnceNeverPassTheCaps() throws Exception {
        String tag = UUID.randomUUID().toString();
        String dataset = "parallel-" + tag;
        upload(dataset, conversations(tag, 0, 1), "split", "sizes:60/10/10", "seed", "11");
        // More uploaders than the connection pool holds, each with its own conversations: 2, 3, ... 21 of them.
        int uploaders = 20;
        List<String> bodies = new ArrayList<>();
        for (int i = 0, from = 1; i < uploaders; from += i + 2, i++) {
            bodies.add(conversations(tag, from, from + i + 2));
        }
        long offered = 1 + IntStream.range(0, uploaders).map(i -> i + 2).sum();

        CyclicBarrier together = new CyclicBarrier(uploaders);
        ExecutorService pool = Executors.newFixedThreadPool(uploaders);
        List<IngestReceipt> receipts = new ArrayList<>();
        try {
            List<Future<IngestReceipt>> futures = new ArrayList<>();
            for (String body : bodies) {
                futures.add(pool.submit(ConcurrentUploadsIT.uploadWhenAllReady(
                        base, together, dataset, "parallel", body.getBytes(StandardCharsets.UTF_8))));
            }
            for (Future<IngestReceipt> future : futures) {
                receipts.add(future.get(3, TimeUnit.MINUTES));
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(perSplit(dataset))
                .containsExactlyInAnyOrderEntriesOf(Map.of(Split.TRAIN, 60L, Split.VALID, 10L, Split.TEST, 10L));
        assertThat(UploadRealDataIT.conversationsOf(dataset))
                .extracting(Conversation::id)
                .doesNotHaveDuplicates();
        assertThat(receipts)
                .allSatisfy(receipt -> assertThat(receipt.balanced()).isTrue());
        assertThat(receipts.stream().mapToLong(IngestReceipt::published).sum()).isEqualTo(80 - 1);
        assertThat(receipts.stream().mapToLong(IngestReceipt::unused).sum()).isEqualTo(offered - 80);
    }

    @Test
    void theRawTopicDoorFollowsTheDatasetsCaps() throws Exception {
        String tag = UUID.randomUUID().toString();
        String dataset = "raw-capped-" + tag;
        upload(dataset, conversations(tag, 0, 2), "split", "sizes:3/1/1", "seed", "5");

        try (KafkaProducer<String, byte[]> producer = Producers.bytes(Infrastructure.kafkaBootstrapServers())) {
            for (String line : conversations(tag, 2, 12).split("\n")) {
                ProducerRecord<String, byte[]> message =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, null, line.getBytes(StandardCharsets.UTF_8));
                message.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                producer.send(message).get(30, TimeUnit.SECONDS);
            }
        }

        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> ((Number) given().get("/datasets/" + dataset)
                                        .then()
                                        .extract()
                                        .jsonPath()
                                        .getMap("totals")
                                        .get("records"))
                                .longValue()
                        == 12);
        Map<String, Object> totals =
                given().get("/datasets/" + dataset).then().extract().jsonPath().getMap("totals");
        assertThat(totals).containsEntry("published", 5).containsEntry("unused", 7);
        assertThat(perSplit(dataset))
                .containsExactlyInAnyOrderEntriesOf(Map.of(Split.TRAIN, 3L, Split.VALID, 1L, Split.TEST, 1L));
    }

    /** Alpaca lines {@code from} (inclusive) to {@code to}, unique to the tag. */
    private static String conversations(String tag, int from, int to) {
        return IntStream.range(from, to)
                .mapToObj(i -> "{\"instruction\":\"Question " + i + " " + tag + "\",\"output\":\"Answer " + i + "\"}")
                .collect(Collectors.joining("\n"));
    }

    private static Map<Split, Long> perSplit(String dataset) {
        Map<Split, Long> counts = new EnumMap<>(Split.class);
        for (Conversation conversation : UploadRealDataIT.conversationsOf(dataset)) {
            counts.merge(conversation.split(), 1L, Long::sum);
        }
        return counts;
    }

    private static IngestReceipt upload(String dataset, String body, String... parameters) throws Exception {
        return IngestOptionsIT.upload(dataset, body, "application/x-ndjson", parameters);
    }
}
