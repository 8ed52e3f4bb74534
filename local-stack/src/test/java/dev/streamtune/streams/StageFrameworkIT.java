package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Event;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.TopicProvisioner;
import dev.streamtune.localstack.testing.Producers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The stage framework against the real broker: a recipe on the recipes topic starts its worker, records are
 * echoed, a poison record becomes a dead letter and the worker goes on, readiness is up, the group's committed
 * offsets reach the end, and a new runtime of the same service resumes from them without reading anything again.
 */
class StageFrameworkIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    /** What the echo stage publishes. */
    record Echo(int schemaVersion, String text) implements Event {}

    @Test
    void aStageRunsARecipeDeadLettersAPoisonRecordCommitsAndResumesWhereItCommitted() throws Exception {
        String kafka = Infrastructure.kafkaBootstrapServers();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String in = "framework-in-" + run;
        String out = "framework-out-" + run;
        TopicProvisioner.ensure(
                kafka, List.of(new Topics.TopicSpec(in, 2, false), new Topics.TopicSpec(out, 1, false)));
        String service = "framework-it-" + run;
        KafkaSettings settings = KafkaSettings.bootstrap(kafka);
        RecipeStage<RecipeStreamWorker> echo = (recipe, context) -> new RecipeStreamWorker(context, recipe.id(), in) {
            @Override
            protected void accept(ConsumerRecord<String, byte[]> record, Output output) {
                String text = new String(record.value(), StandardCharsets.UTF_8);
                if (text.contains("poison")) {
                    throw new IllegalArgumentException("expected no poison in '" + text + "'");
                }
                output.send(new Outgoing(out, record.key(), new Echo(1, text)));
                counts().count("echoed", null);
            }
        };
        Recipe recipe = RecipeParser.parse("""
                name: framework-%s
                model_config:
                  tokenizer: r50k_base
                data_config:
                  format_type: chatml
                training_config:
                  finetuning_type: lora
                lora_config:
                  r: 8
                """.formatted(run), "framework.yaml").recipe();
        TopicReader topics = new TopicReader(settings);

        try (KafkaProducer<String, byte[]> producer = Producers.bytes(kafka)) {
            send(
                    producer,
                    Topics.RECIPES,
                    recipe.id(),
                    new EventSerializer<Recipe>().serialize(Topics.RECIPES, recipe));
            for (int i = 0; i < 100; i++) {
                send(producer, in, "k" + i, (i == 50 ? "poison " : "record ") + i);
            }
            try (StageRuntime<RecipeStreamWorker> runtime = StageRuntime.start(
                    StageContext.of(
                            service,
                            "echo",
                            settings,
                            AcknowledgedPublisher.create(settings, service, Duration.ofSeconds(30))),
                    echo)) {
                awaitTrue(() -> topics.readAll(out).size() == 99);
                awaitTrue(() -> runtime.worker(recipe.id()).counts().total("echoed") == 99
                        && runtime.worker(recipe.id()).counts().total(RecipeStreamWorker.REJECTED) == 1);
                List<DeadLetter> letters = topics.readAll(Topics.CONVERSATIONS_REJECTED).stream()
                        .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                        .filter(letter -> recipe.id().equals(letter.recipeId()))
                        .toList();
                assertThat(letters).singleElement().satisfies(letter -> {
                    assertThat(letter.stage()).isEqualTo("echo");
                    assertThat(letter.reason()).contains("key k50", "expected no poison in 'poison 50'");
                    assertThat(letter.payload()).isEqualTo("poison 50");
                });
                assertThat(runtime.readiness().up()).isTrue();
                assertThat(runtime.readiness().data().get(recipe.id())).contains("1 records dead-lettered");
                awaitTrue(() -> committed(kafka, RecipeStreamWorker.groupId(service, recipe.id()), in) == 100);
            }

            for (int i = 100; i < 110; i++) {
                send(producer, in, "k" + i, "record " + i);
            }
            try (StageRuntime<RecipeStreamWorker> again = StageRuntime.start(
                    StageContext.of(
                            service,
                            "echo",
                            settings,
                            AcknowledgedPublisher.create(settings, service, Duration.ofSeconds(30))),
                    echo)) {
                awaitTrue(() -> again.worker(recipe.id()) != null
                        && again.worker(recipe.id()).counts().total("echoed") == 10);
                awaitTrue(() -> committed(kafka, RecipeStreamWorker.groupId(service, recipe.id()), in) == 110);
                assertThat(topics.readAll(out)).hasSize(109);
                assertThat(again.worker(recipe.id()).counts().total("echoed")).isEqualTo(10);
            }
        }
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within " + PATIENCE).isLessThan(deadline);
            Thread.sleep(100); // polling a condition, with a deadline
        }
    }

    private static long committed(String kafka, String group, String topic) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get();
            return offsets.entrySet().stream()
                    .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset())
                    .sum();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, String value)
            throws Exception {
        send(producer, topic, key, value.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value)
            throws Exception {
        Future<RecordMetadata> ack = producer.send(new ProducerRecord<>(topic, key, value));
        ack.get();
    }
}
