package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Message;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.testing.Producers;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Mixed-format raw records produced to conversations-raw come out normalised on conversations. */
@QuarkusTest
class RawTopicDoorIT {

    private static final DeadLetterDeserializer DEAD_LETTERS = new DeadLetterDeserializer();

    @Test
    void mixedFormatRecordsAreNormalisedAndBadOnesDeadLettered() throws Exception {
        String dataset = "stream-" + UUID.randomUUID();
        String tag = UUID.randomUUID().toString(); // keeps the contents (and so the ids) unique to this run
        List<String> records = List.of(
                "{\"conversations\":[{\"from\":\"human\",\"value\":\"ShareGPT " + tag
                        + "\"},{\"from\":\"gpt\",\"value\":\"Reply.\"}]}",
                "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":\"OpenAI "
                        + tag
                        + "\"},{\"role\":\"assistant\",\"content\":\"Sure.\"}],\"metadata\":{\"augmented\":true}}",
                "{\"instruction\":\"Alpaca " + tag + "\",\"input\":\"ctx\",\"output\":\"Out.\"}",
                "{\"instruction\":\"Dolly " + tag
                        + "\",\"context\":\"\",\"response\":\"Resp.\",\"category\":\"open_qa\"}",
                "{\"prompt\":\"Unified " + tag + "\",\"response\":\"Answer.\",\"source\":\"sft-prep\"}",
                "{\"text\":\"Plain text " + tag + "\"}",
                "{\"message_tree_id\":\"t1\",\"prompt\":{\"message_id\":\"m1\",\"role\":\"prompter\",\"text\":\"OASST "
                        + tag
                        + "\",\"lang\":\"en\",\"replies\":[{\"message_id\":\"m2\",\"role\":\"assistant\",\"text\":\"Second best.\",\"rank\":1},"
                        + "{\"message_id\":\"m3\",\"role\":\"assistant\",\"text\":\"Best.\",\"rank\":0}]}}",
                "{\"conversations\": [",
                "{\"message_id\":\"m9\",\"parent_id\":\"m8\",\"role\":\"assistant\",\"text\":\"A lone OASST row.\"}");
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (String record : records) {
                ProducerRecord<String, byte[]> message =
                        new ProducerRecord<>(Topics.CONVERSATIONS_RAW, null, record.getBytes(StandardCharsets.UTF_8));
                message.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
                producer.send(message).get(30, TimeUnit.SECONDS);
            }
        }

        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> {
                    assertThat(UploadRealDataIT.conversationsOf(dataset))
                            .extracting(Conversation::format)
                            .hasSize(7);
                    assertThat(deadLettersOf(dataset))
                            .extracting(DeadLetter::reason)
                            .hasSize(2);
                });

        Map<String, Conversation> byFormat = UploadRealDataIT.conversationsOf(dataset).stream()
                .collect(Collectors.toMap(Conversation::format, c -> c));
        assertThat(byFormat.keySet())
                .containsExactlyInAnyOrder("sharegpt", "openai", "alpaca", "dolly", "prompt-response", "text", "oasst");
        assertThat(byFormat.get("openai").messages())
                .containsExactly(Message.system("Be kind."), Message.user("OpenAI " + tag), Message.assistant("Sure."));
        assertThat(byFormat.get("openai").metadata().get("augmented").asBoolean())
                .isTrue();
        assertThat(byFormat.get("alpaca").messages().get(0)).isEqualTo(Message.user("Alpaca " + tag + "\n\nctx"));
        assertThat(byFormat.get("dolly").metadata().get("category").asText()).isEqualTo("open_qa");
        assertThat(byFormat.get("prompt-response").metadata().get("source").asText())
                .isEqualTo("sft-prep");
        assertThat(byFormat.get("text").messages()).containsExactly(Message.assistant("Plain text " + tag));
        assertThat(byFormat.get("oasst").messages())
                .containsExactly(Message.user("OASST " + tag), Message.assistant("Best."));
        assertThat(byFormat.values()).allSatisfy(c -> {
            assertThat(c.source().kind()).isEqualTo(SourceRef.Kind.TOPIC);
            assertThat(c.source().name()).isEqualTo(Topics.CONVERSATIONS_RAW);
        });

        List<DeadLetter> letters = deadLettersOf(dataset);
        assertThat(letters)
                .extracting(DeadLetter::reason)
                .anySatisfy(reason ->
                        assertThat(reason).matches("partition \\d+ offset \\d+, line 1 column \\d+: invalid JSON: .*"));
        assertThat(letters)
                .extracting(DeadLetter::reason)
                .anySatisfy(
                        reason -> assertThat(reason)
                                .contains(
                                        "an OASST message row (message_id, parent_id) on its own cannot become a conversation"));

        // The registry accounts for the topic as a source of the dataset: 9 records in, 7 out, 2 rejected.
        // The dataset exists from its first ingestion on; its counts once the chunk is recorded.
        await().atMost(Duration.ofSeconds(30))
                .until(() -> given().get("/datasets/" + dataset).statusCode() == 200
                        && ((Number) given().get("/datasets/" + dataset)
                                                .then()
                                                .extract()
                                                .jsonPath()
                                                .getMap("totals")
                                                .get("records"))
                                        .longValue()
                                == 9);
        Map<String, Object> totals =
                given().get("/datasets/" + dataset).then().extract().jsonPath().getMap("totals");
        assertThat(totals)
                .containsEntry("records", 9)
                .containsEntry("published", 7)
                .containsEntry("rejected", 2);
    }

    @Test
    void anUnknownFormatHeaderDeadLettersTheRecordNamingTheHeaderAndTheKnownFormats() throws Exception {
        String dataset = "stream-format-" + UUID.randomUUID();
        String tag = UUID.randomUUID().toString();
        String forcedYaml = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Unknown header " + tag
                + "\"},{\"from\":\"gpt\",\"value\":\"Reply.\"}]}";
        String forcedShareGpt = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Known header " + tag
                + "\"},{\"from\":\"gpt\",\"value\":\"Reply.\"}]}";
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(message(dataset, "yaml", forcedYaml)).get(30, TimeUnit.SECONDS);
            producer.send(message(dataset, "sharegpt", forcedShareGpt)).get(30, TimeUnit.SECONDS);
        }

        // The registry records a chunk only after Kafka acknowledged it, so once it counts both records the topics
        // hold everything they produced.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> given().get("/datasets/" + dataset).statusCode() == 200
                        && ((Number) given().get("/datasets/" + dataset)
                                                .then()
                                                .extract()
                                                .jsonPath()
                                                .getMap("totals")
                                                .get("records"))
                                        .longValue()
                                == 2);
        Map<String, Object> totals =
                given().get("/datasets/" + dataset).then().extract().jsonPath().getMap("totals");
        assertThat(totals).containsEntry("published", 1).containsEntry("rejected", 1);

        assertThat(UploadRealDataIT.conversationsOf(dataset))
                .singleElement()
                .satisfies(c -> assertThat(c.messages().get(0)).isEqualTo(Message.user("Known header " + tag)));
        List<DeadLetter> letters = deadLettersOf(dataset);
        assertThat(letters).hasSize(1);
        DeadLetter letter = letters.get(0);
        assertThat(letter.stage()).isEqualTo("ingest");
        assertThat(letter.source().kind()).isEqualTo(SourceRef.Kind.TOPIC);
        assertThat(letter.payload()).isEqualTo(forcedYaml);
        assertThat(letter.reason())
                .matches("partition \\d+ offset \\d+: header 'format' is 'yaml', .*")
                .contains("expected auto or one of");
        for (RecordFormat known : RecordFormat.values()) {
            assertThat(letter.reason()).contains(known.wireName());
        }
    }

    @Test
    void aDatasetHeaderThatIsNoNameIsDeadLetteredAndTheDoorGoesOn() throws Exception {
        String tag = UUID.randomUUID().toString();
        String tooLong = "d".repeat(201);
        String withNul = "bad\u0000name-" + tag;
        String good = "stream-after-bad-names-" + tag;
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(message(tooLong, "auto", text("Too long a name " + tag)))
                    .get(30, TimeUnit.SECONDS);
            producer.send(message(withNul, "auto", text("A NUL in the name " + tag)))
                    .get(30, TimeUnit.SECONDS);
            producer.send(message(good, "auto", text("After the bad names " + tag)))
                    .get(30, TimeUnit.SECONDS);
        }

        // The record behind the bad ones is published: the door did not stop at them.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(
                        () -> assertThat(UploadRealDataIT.conversationsOf(good)).hasSize(1));
        String streamDataset = ConfigProvider.getConfig().getValue("ingest.stream.dataset", String.class);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(deadLettersOf(streamDataset))
                        .extracting(DeadLetter::payload)
                        .contains(text("Too long a name " + tag), text("A NUL in the name " + tag)));
        List<DeadLetter> letters = deadLettersOf(streamDataset).stream()
                .filter(letter -> letter.payload().contains(tag))
                .toList();
        assertThat(letters).hasSize(2);
        assertThat(letters)
                .extracting(DeadLetter::reason)
                .anySatisfy(reason -> assertThat(reason)
                        .matches(
                                "partition \\d+ offset \\d+: header 'dataset': 'd{80}\\.\\.\\. \\(201 characters\\)' is not a"
                                        + " dataset name: expected 1-200 letters, .*"));
        assertThat(letters)
                .extracting(DeadLetter::reason)
                .anySatisfy(reason -> assertThat(reason)
                        .contains("header 'dataset': 'bad\\u0000name-" + tag + "' is not a dataset name"));
        assertThat(UploadRealDataIT.conversationsOf(streamDataset))
                .noneMatch(c -> c.messages().toString().contains(tag));
    }

    @Test
    void theDoorIsOnTheReadinessCheckAndTheStageLagGauge() throws Exception {
        String dataset = "stream-health-" + UUID.randomUUID();
        try (KafkaProducer<String, byte[]> producer = producer()) {
            producer.send(message(dataset, "auto", text("Health " + UUID.randomUUID())))
                    .get(30, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() ->
                        assertThat(UploadRealDataIT.conversationsOf(dataset)).hasSize(1));

        // The door has polled: it is running, with its lag, and the instance is ready.
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> {
                    JsonPath health = given().get("/q/health/ready")
                            .then()
                            .statusCode(200)
                            .extract()
                            .jsonPath();
                    assertThat(health.getString("checks.find { it.name == 'conversations-raw door' }.status"))
                            .isEqualTo("UP");
                    assertThat(health.getString(
                                    "checks.find { it.name == 'conversations-raw door' }.data.'conversations-raw'"))
                            .matches("running, lag \\d+");
                });
        // the framework's lag gauge, as every stage has it: nothing of the topic left unread
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(given().get("/q/metrics").asString())
                        .containsPattern("stage_lag_records\\{stage=\"ingest\"} 0\\.0"));
    }

    private static String text(String text) {
        return "{\"text\":\"" + text + "\"}";
    }

    private static ProducerRecord<String, byte[]> message(String dataset, String format, String value) {
        ProducerRecord<String, byte[]> message =
                new ProducerRecord<>(Topics.CONVERSATIONS_RAW, null, value.getBytes(StandardCharsets.UTF_8));
        message.headers().add(Topics.Headers.DATASET, dataset.getBytes(StandardCharsets.UTF_8));
        message.headers().add(Topics.Headers.FORMAT, format.getBytes(StandardCharsets.UTF_8));
        return message;
    }

    static List<DeadLetter> deadLettersOf(String dataset) {
        return TopicReader.readAll(
                        Topics.CONVERSATIONS_REJECTED,
                        bytes -> DEAD_LETTERS.deserialize(Topics.CONVERSATIONS_REJECTED, bytes))
                .stream()
                .filter(letter -> dataset.equals(letter.dataset()))
                .toList();
    }

    private static KafkaProducer<String, byte[]> producer() {
        return Producers.bytes(Infrastructure.kafkaBootstrapServers());
    }
}
