package dev.streamtune.localstack.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The one-command local run: a real Kafka broker and PostgreSQL (or the ones named by KAFKA_BOOTSTRAP_SERVERS and
 * QUARKUS_DATASOURCE_JDBC_URL), the ingest service as it runs in production, files uploaded through its REST door,
 * and an account of every record: the receipts, what arrived on the topics, and the dataset registry.
 *
 * <p>Usage: {@code LocalRun [--dataset NAME] [--split 90/10] [FILE...]}; without files it ingests
 * {@code examples/data/mixed-sample.jsonl}.
 */
public final class LocalRun {

    private LocalRun() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("streamtune.root", ".")).toAbsolutePath().normalize();
        String dataset = "local-" + System.currentTimeMillis();
        String split = "90/10";
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dataset" -> dataset = args[++i];
                case "--split" -> split = args[++i];
                default -> files.add(Path.of(args[i]).toAbsolutePath());
            }
        }
        if (files.isEmpty()) {
            files.add(root.resolve("examples/data/mixed-sample.jsonl"));
        }

        System.out.println("== Starting Kafka and PostgreSQL");
        String kafka = Infrastructure.kafkaBootstrapServers();
        DatabaseEndpoint database = Infrastructure.database();
        System.out.println("   Kafka      " + kafka);
        System.out.println("   PostgreSQL " + database.jdbcUrl());
        System.out.println("== Starting ingest-service (log: local-run/ingest-service.log)");
        try (ServiceProcess ingest = ServiceProcess.start(root, "ingest-service", freePort(), Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", kafka,
                "QUARKUS_DATASOURCE_JDBC_URL", database.jdbcUrl(),
                "QUARKUS_DATASOURCE_USERNAME", database.username(),
                "QUARKUS_DATASOURCE_PASSWORD", database.password()), root.resolve("local-run"))) {
            System.out.println("   ready at " + ingest.uri("/"));
            HttpClient http = HttpClient.newHttpClient();
            long records = 0;
            long accounted = 0;
            for (Path file : files) {
                JsonNode receipt = upload(http, ingest, dataset, split, file);
                records += receipt.path("records").asLong();
                accounted += receipt.path("published").asLong() + receipt.path("rejected").asLong()
                        + receipt.path("duplicates").asLong() + receipt.path("unused").asLong();
                printReceipt(file, receipt);
            }
            printTopics(kafka, dataset);
            JsonNode registry = EventJson.mapper().readTree(http.send(HttpRequest.newBuilder(
                    ingest.uri("/datasets/" + dataset)).build(), HttpResponse.BodyHandlers.ofString()).body());
            System.out.println("== Dataset registry (GET /datasets/" + dataset + ")");
            System.out.println("   totals " + registry.path("totals"));
            System.out.println("== Accounting: " + records + " records in = " + accounted
                    + " published + rejected + duplicates + unused " + (records == accounted ? "(balanced)" : "(NOT BALANCED)"));
            if (records != accounted) {
                System.exit(1);
            }
        }
    }

    private static JsonNode upload(HttpClient http, ServiceProcess ingest, String dataset, String split, Path file)
            throws IOException, InterruptedException {
        String name = file.getFileName().toString();
        URI uri = ingest.uri("/datasets/" + dataset + "/records?source=" + URLEncoder.encode(name, StandardCharsets.UTF_8)
                + "&split=" + URLEncoder.encode(split, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("upload of " + file + " answered " + response.statusCode() + ": " + response.body());
        }
        return EventJson.mapper().readTree(response.body());
    }

    private static void printReceipt(Path file, JsonNode receipt) {
        System.out.println("== Ingested " + file);
        System.out.printf("   records %d: published %d, rejected %d, duplicates %d, unused %d%n",
                receipt.path("records").asLong(), receipt.path("published").asLong(), receipt.path("rejected").asLong(),
                receipt.path("duplicates").asLong(), receipt.path("unused").asLong());
        System.out.println("   per split " + receipt.path("splits"));
        System.out.println("   formats   " + receipt.path("formats"));
        for (JsonNode rejection : receipt.path("rejections")) {
            System.out.println("   rejected  " + rejection.path("source").asText() + ": " + rejection.path("reason").asText());
        }
    }

    /** Reads both output topics to their end and counts what the dataset put there. */
    private static void printTopics(String kafka, String dataset) {
        ConversationDeserializer conversations = new ConversationDeserializer();
        DeadLetterDeserializer deadLetters = new DeadLetterDeserializer();
        Map<String, Long> bySplit = new TreeMap<>();
        long letters = 0;
        for (byte[] value : readAll(kafka, Topics.CONVERSATIONS)) {
            Conversation conversation = conversations.deserialize(Topics.CONVERSATIONS, value);
            if (dataset.equals(conversation.dataset())) {
                bySplit.merge(conversation.split().wireName(), 1L, Long::sum);
            }
        }
        for (byte[] value : readAll(kafka, Topics.CONVERSATIONS_REJECTED)) {
            DeadLetter letter = deadLetters.deserialize(Topics.CONVERSATIONS_REJECTED, value);
            if (dataset.equals(letter.dataset())) {
                letters++;
            }
        }
        System.out.println("== On the topics");
        System.out.println("   " + Topics.CONVERSATIONS + ": " + bySplit.values().stream().mapToLong(Long::longValue).sum()
                + " conversations " + bySplit);
        System.out.println("   " + Topics.CONVERSATIONS_REJECTED + ": " + letters + " dead letters");
    }

    private static List<byte[]> readAll(String kafka, String topic) {
        return TopicSnapshot.read(kafka, topic).stream().map(ConsumerRecord::value).toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
