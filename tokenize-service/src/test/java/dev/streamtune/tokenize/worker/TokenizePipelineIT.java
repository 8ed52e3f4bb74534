package dev.streamtune.tokenize.worker;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.PackedSequence;
import dev.streamtune.events.Segment;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicSnapshot;
import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.Producers;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Through the real broker: a recipe and its examples in; packed batches with every training example exactly once,
 * evaluation examples, dead letters for what cannot be used, duplicates dropped, other recipes skipped; and after
 * the recipe changes (its worker restarts), numbering continues and nothing is batched twice.
 */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
class TokenizePipelineIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @Test
    void examplesBecomeBatchesAndEvaluationExamplesAndEveryOneIsAccountedFor() throws Exception {
        String recipe = "tok-" + UUID.randomUUID().toString().substring(0, 8);
        try (KafkaProducer<String, byte[]> producer = producer()) {
            publishRecipe(producer, recipe, 2);
            List<String> train = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                train.add(send(
                        producer,
                        example(recipe, "c" + i, Split.TRAIN, "Question " + i + "?", "Answer number " + i + ".")));
            }
            send(producer, example(recipe, "v1", Split.VALID, "Valid?", "Yes."));
            send(producer, example(recipe, "t1", Split.TEST, "Test?", "Also yes."));
            send(producer, example(recipe, "long", Split.TRAIN, "word ".repeat(100), "too long"));
            send(producer, example(recipe, "c3", Split.TRAIN, "Question 3?", "Answer number 3.")); // a redelivery
            send(producer, example("someone-else", "x", Split.TRAIN, "Not mine?", "No."));

            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(batchedKeys(recipe)).hasSize(10));
            assertThat(batchedKeys(recipe)).containsExactlyInAnyOrderElementsOf(train);
            List<TrainBatch> batches = batchesOf(recipe);
            assertThat(batches)
                    .extracting(TrainBatch::sequenceNumber)
                    .containsExactlyElementsOf(
                            LongStream.range(0, batches.size()).boxed().toList());
            for (TrainBatch batch : batches) {
                assertThat(batch.sequences()).hasSizeLessThanOrEqualTo(2);
                assertThat(batch.sequenceLength()).isEqualTo(64);
                long trainable = 0;
                for (PackedSequence sequence : batch.sequences()) {
                    assertThat(sequence.length()).isLessThanOrEqualTo(64);
                    assertThat(sequence.inputIds().length()).isEqualTo(64);
                    trainable += sequence.trainableTokens();
                }
                assertThat(batch.trainableTokens()).isEqualTo(trainable).isPositive();
            }

            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(evalOf(recipe)).hasSize(2));
            assertThat(evalOf(recipe))
                    .extracting(EvalExample::split)
                    .containsExactlyInAnyOrder(Split.VALID, Split.TEST);
            EvalExample valid = evalOf(recipe).stream()
                    .filter(e -> e.split() == Split.VALID)
                    .findFirst()
                    .orElseThrow();
            assertThat(valid.referenceResponse()).isEqualTo("Yes.");
            assertThat(valid.promptTokens())
                    .isPositive()
                    .isLessThan(valid.inputIds().length());
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(deadLettersOf(recipe))
                            .singleElement()
                            .extracting(DeadLetter::reason)
                            .asString()
                            .contains("exceed max_seq_length 64"));

            // nanoGPT's format: flat uint16 ids, every training document once, no padding.
            byte[] exported = given().get("/recipes/" + recipe + "/export.bin?split=train")
                    .then()
                    .statusCode(200)
                    .header("X-Token-Dtype", "uint16")
                    .extract()
                    .asByteArray();
            long batchedTokens =
                    batches.stream().mapToLong(TrainBatch::totalTokens).sum();
            assertThat(exported).hasSize((int) (2 * batchedTokens));
            short[] values = new short[exported.length / 2];
            ByteBuffer.wrap(exported)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asShortBuffer()
                    .get(values);
            int[] ids = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                ids[i] = Short.toUnsignedInt(values[i]);
            }
            String text = TiktokenTokenizer.gpt2WithChatMl().decode(ids);
            for (int i = 0; i < 10; i++) {
                assertThat(text)
                        .containsOnlyOnce("<|im_start|>user\nQuestion " + i + "?<|im_end|>\n<|im_start|>assistant\n"
                                + "Answer number " + i + ".<|im_end|>\n");
            }
            var sidecar = given().get("/recipes/" + recipe + "/export.json?split=valid")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            assertThat(sidecar.getLong("documents")).isEqualTo(1);
            assertThat(sidecar.getString("dtype")).isEqualTo("uint16");
            assertThat(sidecar.getInt("vocabSize")).isEqualTo(50259);

            var status = given().get("/recipes/" + recipe)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            // Records of other recipes on the topic (other tests' too) are skipped; this recipe's 14 are all placed.
            assertThat(status.getLong("read") - status.getLong("skipped")).isEqualTo(14);
            assertThat(status.getLong("read"))
                    .isEqualTo(status.getLong("train")
                            + status.getLong("eval")
                            + status.getLong("rejected")
                            + status.getLong("duplicates")
                            + status.getLong("skipped"));
            assertThat(status.getLong("train")).isEqualTo(10);
            assertThat(status.getLong("eval")).isEqualTo(2);
            assertThat(status.getLong("rejected")).isEqualTo(1);
            assertThat(status.getLong("duplicates")).isEqualTo(1);
            assertThat(status.getLong("skipped")).isGreaterThanOrEqualTo(1);

            // A changed recipe restarts its worker: it reads its own batches back, numbering continues, and the
            // examples its batches hold are not batched again.
            publishRecipe(producer, recipe, 3);
            await().atMost(PATIENCE).until(() -> {
                var response = given().get("/recipes/" + recipe);
                return response.statusCode() == 200 && response.jsonPath().getInt("rowsPerBatch") == 3;
            });
            List<String> later = List.of(
                    send(producer, example(recipe, "n1", Split.TRAIN, "Later?", "Yes, later.")),
                    send(producer, example(recipe, "n2", Split.TRAIN, "Even later?", "Still here.")));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(batchedKeys(recipe)).hasSize(12));
            assertThat(batchedKeys(recipe)).containsAll(later).doesNotHaveDuplicates();
            List<TrainBatch> all = batchesOf(recipe);
            assertThat(all)
                    .extracting(TrainBatch::sequenceNumber)
                    .containsExactlyElementsOf(
                            LongStream.range(0, all.size()).boxed().toList());
        }
    }

    @Test
    void everyWindowOfASplitEvaluationExampleIsExportedAndAnUnreadableExampleIsADeadLetter() throws Exception {
        String recipe = "split-" + UUID.randomUUID().toString().substring(0, 8);
        try (KafkaProducer<String, byte[]> producer = producer()) {
            String json = """
                    {"schemaVersion": 1, "id": "%s", "model_config": {"tokenizer": "r50k_base"},
                     "data_config": {"format_type": "chatml", "max_seq_length": 24, "packing": true,
                                     "truncation": "split"},
                     "training_config": {"per_device_train_batch_size": 2, "finetuning_type": "lora"}}
                    """.formatted(recipe);
            producer.send(new ProducerRecord<>(Topics.RECIPES, recipe, json.getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
            send(
                    producer,
                    example(
                            recipe,
                            "long",
                            Split.VALID,
                            "Tell me a long story?",
                            "Once upon a time there was a tokenizer that cut every story into windows. ".repeat(4)));
            producer.send(new ProducerRecord<>(
                            Topics.EXAMPLES, recipe + ":bad", "{not json".getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
            String after = send(producer, example(recipe, "after", Split.TRAIN, "Still going?", "Yes."));

            // The unreadable record is a dead letter naming it; the worker goes on with the next one.
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(deadLettersOf(recipe))
                            .singleElement()
                            .extracting(DeadLetter::reason)
                            .asString()
                            .contains("key " + recipe + ":bad", "recipe " + recipe));
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(batchedKeys(recipe)).containsExactly(after));

            // The long validation example became several windows, each its own evaluation example, all exported.
            await().atMost(PATIENCE)
                    .untilAsserted(() -> assertThat(evalWindowsOf(recipe)).hasSizeGreaterThan(2));
            List<String> windows = evalWindowsOf(recipe);
            assertThat(windows).allMatch(key -> key.startsWith(recipe + ":long#"));
            var sidecar = given().get("/recipes/" + recipe + "/export.json?split=valid")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            assertThat(sidecar.getLong("documents")).isEqualTo(windows.size());
        }
    }

    private static List<String> evalWindowsOf(String recipe) {
        EvalExampleDeserializer eval = new EvalExampleDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.EVAL_EXAMPLES).stream()
                .map(r -> eval.deserialize(Topics.EVAL_EXAMPLES, r.value()))
                .filter(e -> recipe.equals(e.recipeId()))
                .map(EvalExample::key)
                .distinct()
                .toList();
    }

    private static FormattedExample example(
            String recipe, String conversation, Split split, String question, String answer) {
        return new FormattedExample(
                FormattedExample.SCHEMA_VERSION,
                recipe,
                conversation,
                "chats",
                split,
                "chatml",
                List.of(
                        new Segment("<|im_start|>user\n", false, true), new Segment(question, false),
                        new Segment("<|im_end|>\n<|im_start|>assistant\n", false, true), new Segment(answer, true),
                        new Segment("<|im_end|>", true, true), new Segment("\n", false, true)),
                answer,
                null);
    }

    private static String send(KafkaProducer<String, byte[]> producer, FormattedExample example) throws Exception {
        byte[] value = new EventSerializer<FormattedExample>().serialize(Topics.EXAMPLES, example);
        producer.send(new ProducerRecord<>(Topics.EXAMPLES, example.key(), value))
                .get(30, TimeUnit.SECONDS);
        return example.key();
    }

    private static void publishRecipe(KafkaProducer<String, byte[]> producer, String id, int rows) throws Exception {
        String json = """
                {"schemaVersion": 1, "id": "%s", "model_config": {"tokenizer": "r50k_base"},
                 "data_config": {"format_type": "chatml", "max_seq_length": 64, "packing": true, "truncation": "drop"},
                 "training_config": {"per_device_train_batch_size": %d, "finetuning_type": "lora"}}
                """.formatted(id, rows);
        producer.send(new ProducerRecord<>(Topics.RECIPES, id, json.getBytes(StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
    }

    private static List<TrainBatch> batchesOf(String recipe) {
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.BATCHES).stream()
                .filter(r -> recipe.equals(r.key()))
                .map(r -> batches.deserialize(Topics.BATCHES, r.value()))
                .toList();
    }

    private static List<String> batchedKeys(String recipe) {
        return batchesOf(recipe).stream().flatMap(b -> b.exampleKeys().stream()).toList();
    }

    private static List<EvalExample> evalOf(String recipe) {
        EvalExampleDeserializer eval = new EvalExampleDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.EVAL_EXAMPLES).stream()
                .map(r -> eval.deserialize(Topics.EVAL_EXAMPLES, r.value()))
                .filter(e -> recipe.equals(e.recipeId()))
                .collect(Collectors.toMap(EvalExample::conversationId, e -> e, (a, b) -> b))
                .values()
                .stream()
                .toList();
    }

    private static List<DeadLetter> deadLettersOf(String recipe) {
        DeadLetterDeserializer letters = new DeadLetterDeserializer();
        return TopicSnapshot.read(Infrastructure.kafkaBootstrapServers(), Topics.CONVERSATIONS_REJECTED).stream()
                .map(r -> letters.deserialize(Topics.CONVERSATIONS_REJECTED, r.value()))
                .filter(l -> recipe.equals(l.recipeId()))
                .toList();
    }

    private static KafkaProducer<String, byte[]> producer() {
        return Producers.bytes(Infrastructure.kafkaBootstrapServers());
    }
}
