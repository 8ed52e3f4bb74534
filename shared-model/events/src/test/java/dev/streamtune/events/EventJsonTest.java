package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.EvaluationDeserializer;
import dev.streamtune.events.serde.EventDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.events.serde.RecipeDeserializer;
import dev.streamtune.events.serde.SchemaVersionException;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import java.util.stream.Stream;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventJsonTest {

    static Stream<Arguments> everyEvent() {
        return Stream.of(
                Arguments.of(EventSamples.conversation(), new ConversationDeserializer()),
                Arguments.of(EventSamples.deadLetter(), new DeadLetterDeserializer()),
                Arguments.of(EventSamples.recipe(), new RecipeDeserializer()),
                Arguments.of(EventSamples.formattedExample(), new FormattedExampleDeserializer()),
                Arguments.of(EventSamples.trainBatch(), new TrainBatchDeserializer()),
                Arguments.of(EventSamples.evalExample(), new EvalExampleDeserializer()),
                Arguments.of(EventSamples.checkpointEvent(), new CheckpointEventDeserializer()),
                Arguments.of(EventSamples.evaluation(), new EvaluationDeserializer()));
    }

    private final EventSerializer<Event> serializer = new EventSerializer<>();

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void roundTripsThroughKafkaSerdes(Event event, EventDeserializer<? extends Event> deserializer) {
        byte[] bytes = serializer.serialize("t", event);

        assertThat(deserializer.deserialize("t", bytes)).isEqualTo(event);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void toleratesFieldsAddedByANewerProducer(Event event, EventDeserializer<? extends Event> deserializer) {
        ObjectNode tree = EventJson.mapper().valueToTree(event);
        tree.put("addedLater", "x");
        tree.putObject("alsoAddedLater").put("n", 1);

        assertThat(deserializer.fromJson(tree.toString())).isEqualTo(event);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void refusesAnotherSchemaVersionWithAClearMessage(Event event, EventDeserializer<? extends Event> deserializer) {
        ObjectNode tree = EventJson.mapper().valueToTree(event);
        tree.put("schemaVersion", event.schemaVersion() + 1);
        String type = event.getClass().getSimpleName();

        assertThatThrownBy(() ->
                        deserializer.deserialize("some-topic", tree.toString().getBytes()))
                .isInstanceOf(SchemaVersionException.class)
                .hasMessage(
                        "topic some-topic: " + type + " has schemaVersion 2 but this consumer reads schemaVersion 1;"
                                + " upgrade the consumer or republish the record with schemaVersion 1");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void refusesAMissingSchemaVersion(Event event, EventDeserializer<? extends Event> deserializer) {
        ObjectNode tree = EventJson.mapper().valueToTree(event);
        tree.remove("schemaVersion");

        assertThatThrownBy(() -> deserializer.fromJson(tree.toString()))
                .isInstanceOf(SchemaVersionException.class)
                .hasMessageContaining("has no schemaVersion; this consumer reads schemaVersion 1");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void refusesASchemaVersionThatIsNotAPlainInt(Event event, EventDeserializer<? extends Event> deserializer) {
        ObjectNode quoted = EventJson.mapper().valueToTree(event);
        quoted.put("schemaVersion", "1");
        ObjectNode fraction = EventJson.mapper().valueToTree(event);
        fraction.put("schemaVersion", 1.0);

        assertThatThrownBy(() -> deserializer.fromJson(quoted.toString()))
                .isInstanceOf(SchemaVersionException.class)
                .hasMessageContaining("has schemaVersion \"1\"");
        assertThatThrownBy(() -> deserializer.fromJson(fraction.toString()))
                .isInstanceOf(SchemaVersionException.class)
                .hasMessageContaining("has schemaVersion 1.0");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void readsTheSchemaVersionWhereverItIsWritten(Event event, EventDeserializer<? extends Event> deserializer) {
        ObjectNode written = EventJson.mapper().valueToTree(event);
        ObjectNode versionLast = EventJson.mapper().createObjectNode();
        written.fields().forEachRemaining(field -> {
            if (!field.getKey().equals("schemaVersion")) {
                versionLast.set(field.getKey(), field.getValue());
            }
        });
        versionLast.put("schemaVersion", event.schemaVersion());
        String repeated = "{\"schemaVersion\": 1, "
                + written.toString().substring(1).replace("\"schemaVersion\":1", "\"schemaVersion\":2");

        assertThat(deserializer.fromJson(versionLast.toString())).isEqualTo(event);
        assertThatThrownBy(() -> deserializer.fromJson(repeated)) // the last one counts, as for any field
                .isInstanceOf(SchemaVersionException.class)
                .hasMessageContaining("has schemaVersion 2");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyEvent")
    void tombstonesStayNull(Event event, EventDeserializer<? extends Event> deserializer) {
        assertThat(serializer.serialize("t", null)).isNull();
        assertThat(deserializer.deserialize("t", null)).isNull();
    }

    @Test
    void invalidJsonNamesTheTopic() {
        assertThatThrownBy(() -> new ConversationDeserializer().deserialize("conversations", "{\"id\":".getBytes()))
                .isInstanceOf(SerializationException.class)
                .hasMessageStartingWith("topic conversations: invalid JSON");
    }

    @Test
    void wireFormUsesLowerCaseEnumsAndIsoInstants() {
        JsonNode tree = EventJson.mapper().valueToTree(EventSamples.conversation());

        assertThat(tree.get("split").asText()).isEqualTo("valid");
        assertThat(tree.get("messages").get(2).get("role").asText()).isEqualTo("assistant");
        assertThat(tree.get("source").get("kind").asText()).isEqualTo("upload");
        assertThat(tree.get("ingestedAt").asText()).isEqualTo("2026-11-22T10:15:30.123456Z");
    }

    @Test
    void recipeSectionsKeepTheSnakeCaseKeysOfTheYaml() {
        JsonNode tree = EventJson.mapper().valueToTree(EventSamples.recipe());

        assertThat(tree.get("jola_config").get("gate_scheduler").asText()).isEqualTo("expon");
        assertThat(tree.get("training_config")
                        .get("per_device_train_batch_size")
                        .asInt())
                .isEqualTo(2);
        assertThat(tree.get("lora_config").get("target_modules").isArray()).isTrue();
    }
}
