package dev.streamtune.localstack.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Segment;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.LoopbackPorts;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * tokenize-service end to end through the real broker: its production jar, a recipe, N formatted examples (the real
 * ShareGPT conversations rendered as ChatML, repeated with distinct ids) produced to {@code examples}, timed until
 * the service has batched every one. A command, not a test: {@code bench/tokenize-service-throughput.sh}.
 *
 * <pre>TokenizeThroughput SHARED_DIR [EXAMPLES]</pre>
 */
public final class TokenizeThroughput {

    private TokenizeThroughput() {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("streamtune.root", "."))
                .toAbsolutePath()
                .normalize();
        Path shared = Path.of(args.length > 0 ? args[0] : "../shared").toAbsolutePath();
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        List<List<Segment>> conversations = new ArrayList<>();
        for (JsonNode conversation : EventJson.mapper()
                .readTree(shared.resolve("data/sharegpt/fastchat_dummy_conversation.json")
                        .toFile())) {
            List<Segment> segments = new ArrayList<>();
            for (JsonNode message : conversation.path("conversations")) {
                boolean assistant = message.path("from").asText().equals("gpt");
                segments.add(new Segment("<|im_start|>" + (assistant ? "assistant" : "user") + "\n", false, true));
                segments.add(new Segment(message.path("value").asText(), assistant));
                segments.add(new Segment("<|im_end|>", assistant, true));
                segments.add(new Segment("\n", false, true));
            }
            conversations.add(segments);
        }
        String kafka = Infrastructure.kafkaBootstrapServers();
        String recipe = "throughput-" + System.currentTimeMillis();
        int port = LoopbackPorts.free();
        try (ServiceProcess tokenize = ServiceProcess.start(
                        root,
                        "tokenize-service",
                        port,
                        Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka),
                        root.resolve("local-run"));
                KafkaProducer<String, byte[]> producer = producer(kafka)) {
            String json = """
                    {"schemaVersion": 1, "id": "%s", "model_config": {"tokenizer": "r50k_base"},
                     "data_config": {"max_seq_length": 1024, "packing": true, "truncation": "truncate"},
                     "training_config": {"per_device_train_batch_size": 8, "finetuning_type": "lora"}}
                    """.formatted(recipe);
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipe, json.getBytes(StandardCharsets.UTF_8)))
                    .get();
            EventSerializer<FormattedExample> serializer = new EventSerializer<>();
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                FormattedExample example = new FormattedExample(
                        FormattedExample.SCHEMA_VERSION,
                        recipe,
                        "c" + i,
                        "sharegpt",
                        Split.TRAIN,
                        "chatml",
                        conversations.get(i % conversations.size()),
                        null,
                        null);
                producer.send(new ProducerRecord<>(
                        Topics.EXAMPLES, example.key(), serializer.serialize(Topics.EXAMPLES, example)));
            }
            producer.flush();
            double produced = (System.nanoTime() - start) / 1e9;
            HttpClient http = HttpClient.newHttpClient();
            JsonNode status = null;
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (System.nanoTime() < deadline) {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(tokenize.uri("/recipes/" + recipe))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    status = EventJson.mapper().readTree(response.body());
                    long train = status.path("train").asLong();
                    if (train + status.path("rejected").asLong() >= count
                            && status.path("batchedExamples").asLong() >= train) {
                        break;
                    }
                }
                Thread.sleep(200); // polling the service's status until it has batched everything
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long batches = status == null ? 0 : status.path("batches").asLong();
            System.out.printf(
                    Locale.ROOT,
                    "tokenize-service through Kafka: %,d examples (produced in %.1f s) -> %,d batches"
                            + " of 8 x 1,024 tokens in %.1f s: %,.0f examples/s, %,.1f batches/s (the last partial batch waits for"
                            + " the 5 s quiet-stream flush, included)%n",
                    count,
                    produced,
                    batches,
                    seconds,
                    count / seconds,
                    batches / seconds);
        }
    }

    private static KafkaProducer<String, byte[]> producer(String kafka) {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        config.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(config);
    }
}
