package dev.streamtune.format.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Message;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.RecipeDeserializer;
import dev.streamtune.format.recipe.RecipeFormats;
import dev.streamtune.format.template.JinjaLimits;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.Output;
import dev.streamtune.streams.StageContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One recipe's worker given conversations its Jinja template cannot render within the configured limits. */
class FormatWorkerTest {

    /** Spins through a third of a billion empty loop passes once a conversation has more than two messages. */
    private static final String SPINS_PAST_TWO_MESSAGES = "{% set r = range(700) %}{% for m in messages %}"
            + "{% if messages|length > 2 %}{% for i in r %}{% for j in r %}{% for k in r %}{% endfor %}{% endfor %}"
            + "{% endfor %}{% endif %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}";

    @Test
    @Timeout(20) // guards against a hang only; the limit under test is one second
    void aConversationPastTheJinjaLimitsIsADeadLetterAndTheWorkerGoesOn() {
        Recipe recipe = new RecipeDeserializer().deserialize(Topics.RECIPES, """
                {"schemaVersion": 1, "id": "spinning", "data_config": {"chat_template": "%s"}}
                """.formatted(SPINS_PAST_TWO_MESSAGES)
                .getBytes(StandardCharsets.UTF_8));
        // Jinjava's first render in a JVM loads its classes, which is no part of the template's time
        new RecipeFormats(Path.of("."), "26 Jul 2024").of(recipe);
        JinjaLimits limits = new JinjaLimits(Duration.ofSeconds(1), 9); // 9 renders: four messages at most
        FormatMetrics metrics = new FormatMetrics(new SimpleMeterRegistry());
        FormatWorker worker = new FormatWorker(
                new StageContext(
                        "format-service",
                        "format",
                        KafkaSettings.bootstrap("localhost:1"),
                        null,
                        settings -> null,
                        Duration.ZERO),
                new RecipeFormats(Path.of("."), "26 Jul 2024", limits).of(recipe),
                metrics);

        Output out = new Output();
        worker.accept(record(0, conversation("short", 1)), out);
        worker.accept(record(1, conversation("spinning", 2)), out);
        worker.accept(record(2, conversation("long", 3)), out);
        worker.accept(record(3, conversation("after", 1)), out);

        assertThat(out.records())
                .extracting(Outgoing::topic)
                .containsExactly(
                        Topics.EXAMPLES, Topics.CONVERSATIONS_REJECTED, Topics.CONVERSATIONS_REJECTED, Topics.EXAMPLES);
        assertThat(out.records())
                .map(Outgoing::event)
                .filteredOn(FormattedExample.class::isInstance)
                .map(e -> ((FormattedExample) e).conversationId())
                .containsExactly("short", "after");
        List<String> reasons = out.records().stream()
                .map(Outgoing::event)
                .filter(DeadLetter.class::isInstance)
                .map(e -> ((DeadLetter) e).reason())
                .toList();
        assertThat(reasons.get(0))
                .contains(
                        "conversation spinning",
                        "recipe spinning",
                        "jinja template",
                        "time limit of 1 s per render (format.jinja.render-timeout)");
        assertThat(reasons.get(1))
                .contains(
                        "conversation long",
                        "6 messages need 13 renders of the chat template,"
                                + " more than the 9 allowed per conversation (format.jinja.max-renders)");
        assertThat(out.deadLetters()).isEqualTo(2); // four read: two formatted, two rejected
    }

    /**
     * A conversation of a schema version this service does not read (a newer producer's) is a dead letter naming the
     * record, the field and the version expected; the conversations around it are formatted, and the books balance:
     * read = formatted + rejected + skipped.
     */
    @Test
    void aConversationOfAnotherSchemaVersionIsADeadLetterAndTheNextIsFormatted() {
        Recipe recipe = new RecipeDeserializer()
                .deserialize(Topics.RECIPES, "{\"schemaVersion\": 1, \"id\": \"r1\"}".getBytes(StandardCharsets.UTF_8));
        MockProducer<String, byte[]> producer =
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        TopicPartition partition = new TopicPartition(Topics.CONVERSATIONS, 0);
        consumer.updateBeginningOffsets(Map.of(partition, 0L));
        consumer.updateEndOffsets(Map.of(partition, 3L));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(partition));
            consumer.addRecord(record(0, conversation("before", 1)));
            consumer.addRecord(otherSchemaVersion(record(1, conversation("newer", 1))));
            consumer.addRecord(record(2, conversation("after", 1)));
        });
        FormatWorker worker = new FormatWorker(
                new StageContext(
                        "format-service",
                        "format",
                        KafkaSettings.bootstrap("localhost:1"),
                        new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                        settings -> consumer,
                        Duration.ofMillis(1)),
                new RecipeFormats(Path.of("."), "26 Jul 2024").of(recipe),
                new FormatMetrics(new SimpleMeterRegistry()));
        consumer.schedulePollTask(worker::stop);

        worker.run();

        assertThat(producer.history())
                .filteredOn(r -> r.topic().equals(Topics.EXAMPLES))
                .hasSize(2);
        List<DeadLetter> letters = producer.history().stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                .toList();
        assertThat(letters).singleElement().satisfies(letter -> {
            assertThat(letter.source().describe()).isEqualTo("conversations-0@1");
            assertThat(letter.field()).isEqualTo("schemaVersion");
            assertThat(letter.recipeId()).isEqualTo("r1");
            assertThat(letter.reason())
                    .contains(
                            "conversations-0@1",
                            "has schemaVersion 99 but this consumer reads schemaVersion "
                                    + Conversation.SCHEMA_VERSION);
        });
        assertThat(worker.counts().totals()).isEqualTo(Map.of(FormatWorker.FORMATTED, 2L, FormatWorker.REJECTED, 1L));
        assertThat(worker.workerState().retries()).isZero();
        assertThat(worker.workerState().state()).isEqualTo(FormatWorker.State.STOPPED);
    }

    /** The record as a producer of schema version 99 would write it. */
    private static ConsumerRecord<String, byte[]> otherSchemaVersion(ConsumerRecord<String, byte[]> record) {
        String json = new String(record.value(), StandardCharsets.UTF_8);
        assertThat(json).contains("\"schemaVersion\":" + Conversation.SCHEMA_VERSION + ",");
        byte[] newer = json.replaceFirst("\"schemaVersion\":\\d+,", "\"schemaVersion\":99,")
                .getBytes(StandardCharsets.UTF_8);
        return new ConsumerRecord<>(record.topic(), record.partition(), record.offset(), record.key(), newer);
    }

    /** A conversation of {@code turns} user / assistant exchanges. */
    private static Conversation conversation(String id, int turns) {
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < turns; i++) {
            messages.add(Message.user("question " + i));
            messages.add(Message.assistant("answer " + i));
        }
        return new Conversation(
                Conversation.SCHEMA_VERSION,
                id,
                "demo",
                SourceRef.inFile(SourceRef.Kind.UPLOAD, "chats.jsonl", 1, 1),
                Split.TRAIN,
                messages,
                null,
                "sharegpt",
                null,
                null);
    }

    private static ConsumerRecord<String, byte[]> record(long offset, Conversation conversation) {
        return new ConsumerRecord<>(
                Topics.CONVERSATIONS,
                0,
                offset,
                conversation.id(),
                new EventSerializer<Conversation>().serialize(Topics.CONVERSATIONS, conversation));
    }
}
