package dev.streamtune.eval.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.score.BaseIdentity;
import dev.streamtune.eval.set.EvalExampleRow;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.TokenIds;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.StageContext;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * One recipe's reading of {@code eval-examples} against kafka-clients' mock consumer and producer and a database in
 * memory, on the test's thread: the last scheduled poll stops the worker, so no timing is involved.
 */
class EvalSetWorkerTest {

    private static final String RECIPE = "r1";
    private static final TopicPartition P0 = new TopicPartition(Topics.EVAL_EXAMPLES, 0);

    /** The examples and positions the worker stores, in memory. */
    static final class Database extends EvalStore {
        final List<EvalExampleRow> stored = new ArrayList<>();
        final Map<Integer, Long> positions = new HashMap<>();

        Database() {
            super(work -> {
                throw new UnsupportedOperationException("no database in this test");
            });
        }

        @Override
        public SetState setState(String recipeId) {
            return new SetState(new HashSet<>(), Map.of());
        }

        @Override
        public Map<TopicPartition, Long> seeks(String reader, Collection<TopicPartition> assigned) {
            return Map.of();
        }

        @Override
        public void storeExamples(String recipeId, List<EvalExampleRow> rows, Map<Integer, Long> next, String topic) {
            stored.addAll(rows);
            positions.putAll(next);
        }
    }

    /**
     * An example of a schema version this service does not read (a newer producer's) is a dead letter naming the
     * record, the field and the version expected; the examples around it are stored, and the books balance:
     * read = stored + duplicate + beyond bound + skipped + rejected.
     */
    @Test
    void anExampleOfAnotherSchemaVersionIsADeadLetterAndTheNextIsStored() {
        Path models = SharedData.models();
        Recipe recipe = RecipeYaml.withId(RECIPE)
                .stories260K()
                .data("valid_size", 10)
                .data("test_size", 0)
                .lora("r", 4)
                .parse("test");
        RecipeModels.Base base = new RecipeModels(models).base(recipe);
        MockProducer<String, byte[]> producer =
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.updateEndOffsets(Map.of(P0, 3L));
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(P0));
            consumer.addRecord(record(0, "c0", false));
            consumer.addRecord(record(1, "c1", true));
            consumer.addRecord(record(2, "c2", false));
        });
        Database database = new Database();
        EvalSetWorker worker = new EvalSetWorker(
                new StageContext(
                        EvalStage.SERVICE,
                        EvalStage.STAGE,
                        KafkaSettings.bootstrap("localhost:1"),
                        new AcknowledgedPublisher(producer, Duration.ofSeconds(5)),
                        config -> consumer,
                        Duration.ofMillis(1)),
                recipe,
                base,
                BaseIdentity.of(recipe, base, models),
                database,
                new EvalMetrics(new SimpleMeterRegistry()),
                1000,
                Duration.ofHours(1),
                () -> {});
        consumer.schedulePollTask(worker::stop);

        worker.run();

        assertThat(database.stored).extracting(row -> row.conversationId).containsExactly("c0", "c2");
        assertThat(database.positions).containsEntry(0, 3L);
        List<DeadLetter> letters = producer.history().stream()
                .filter(r -> r.topic().equals(Topics.CONVERSATIONS_REJECTED))
                .map(r -> new DeadLetterDeserializer().deserialize(r.topic(), r.value()))
                .toList();
        assertThat(letters).singleElement().satisfies(letter -> {
            assertThat(letter.source().describe()).isEqualTo("eval-examples-0@1");
            assertThat(letter.field()).isEqualTo("schemaVersion");
            assertThat(letter.recipeId()).isEqualTo(RECIPE);
            assertThat(letter.reason())
                    .contains(
                            "eval-examples-0@1",
                            "has schemaVersion 99 but this consumer reads schemaVersion " + EvalExample.SCHEMA_VERSION);
        });
        assertThat(worker.counts().totals()).isEqualTo(Map.of(EvalSetWorker.STORED, 2L, EvalSetWorker.REJECTED, 1L));
        assertThat(worker.workerState().retries()).isZero();
    }

    /** A validation example of the recipe, as tokenize-service writes it, or as a producer of version 99 would. */
    private static ConsumerRecord<String, byte[]> record(long offset, String conversationId, boolean newer) {
        EvalExample example = new EvalExample(
                EvalExample.SCHEMA_VERSION,
                RECIPE,
                conversationId,
                "demo",
                Split.VALID,
                TokenIds.of(new int[] {1, 20, 30, 40, 2}),
                TokenIds.of(new int[] {-100, -100, 30, 40, 2}),
                2,
                "reference",
                null);
        byte[] value = new EventSerializer<EvalExample>().serialize(Topics.EVAL_EXAMPLES, example);
        if (newer) {
            String json = new String(value, StandardCharsets.UTF_8);
            assertThat(json).contains("\"schemaVersion\":" + EvalExample.SCHEMA_VERSION + ",");
            value = json.replaceFirst("\"schemaVersion\":\\d+,", "\"schemaVersion\":99,")
                    .getBytes(StandardCharsets.UTF_8);
        }
        return new ConsumerRecord<>(Topics.EVAL_EXAMPLES, 0, offset, example.key(), value);
    }
}
