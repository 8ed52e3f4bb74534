package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.serde.CheckpointEventDeserializer;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.DeadLetterDeserializer;
import dev.streamtune.events.serde.EvalExampleDeserializer;
import dev.streamtune.events.serde.EvaluationDeserializer;
import dev.streamtune.events.serde.EventDeserializer;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.events.serde.FormattedExampleDeserializer;
import dev.streamtune.events.serde.RecipeDeserializer;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;

/**
 * Every topic's deserialiser against hostile bytes: random bytes, valid records truncated, mutated, given values
 * of the wrong type, huge numbers and strings, deep nesting, other schema versions, nulls. A deserialiser either
 * returns an event or throws Kafka's {@link SerializationException} with a message, which a stage turns into a
 * dead letter with that reason; anything else (a NullPointerException, a StackOverflowError) would be a record that
 * no reason explains, or a dead worker.
 *
 * <p>{@code -Dstreamtune.fuzz.examples=N} draws more inputs than the suite's 300 per deserialiser; a failure is
 * reported with the input, and {@code -Dstreamtune.fuzz.seed=S} replays a run.
 */
class EventDeserializerFuzzTest {

    static final int EXAMPLES = Integer.getInteger("streamtune.fuzz.examples", 300);

    /** A deserialiser with a valid record of its type to start mutating from. */
    record Topic(String name, Supplier<EventDeserializer<?>> deserializer, Event sample) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final List<Topic> TOPICS = List.of(
            new Topic(Topics.CONVERSATIONS, ConversationDeserializer::new, EventSamples.conversation()),
            new Topic(Topics.CONVERSATIONS_REJECTED, DeadLetterDeserializer::new, EventSamples.deadLetter()),
            new Topic(Topics.RECIPES, RecipeDeserializer::new, EventSamples.recipe()),
            new Topic("examples", FormattedExampleDeserializer::new, EventSamples.formattedExample()),
            new Topic("batches", TrainBatchDeserializer::new, EventSamples.trainBatch()),
            new Topic("eval-examples", EvalExampleDeserializer::new, EventSamples.evalExample()),
            new Topic("checkpoints", CheckpointEventDeserializer::new, EventSamples.checkpointEvent()),
            new Topic("evaluations", EvaluationDeserializer::new, EventSamples.evaluation()));

    @Test
    void everyDeserializerReturnsAnEventOrSaysWhatIsWrong() {
        for (Topic topic : TOPICS) {
            EventDeserializer<?> deserializer = topic.deserializer().get();
            byte[] valid = json(topic.sample());
            theory().forAll(integers().between(0, Mutation.values().length - 1), longs().all())
                    .checkAssert((mutation, seed) -> {
                        byte[] input = Mutation.values()[mutation].apply(valid, new Random(seed));
                        assertReadOrRefused(topic.name(), deserializer, input);
                    });
        }
    }

    @Test
    void aHundredThousandNestedArraysAreRefusedAtTheNestingLimitNotByAStackOverflow() {
        for (Topic topic : TOPICS) {
            EventDeserializer<?> deserializer = topic.deserializer().get();
            String record = new String(json(topic.sample()), StandardCharsets.UTF_8);
            List<byte[]> deep = List.of(
                    nested("[", "]", 100_000, "1"),
                    nested("{\"a\":", "}", 100_000, "1"),
                    (record.substring(0, record.length() - 1) + ",\"extra\":"
                                    + new String(nested("[", "]", 100_000, "1"), StandardCharsets.UTF_8) + "}")
                            .getBytes(StandardCharsets.UTF_8));
            for (byte[] input : deep) {
                assertReadOrRefused(topic.name(), deserializer, input);
                assertThatThrownBy(() -> deserializer.deserialize(topic.name(), input))
                        .hasMessageContaining("nesting depth")
                        .hasMessageContaining(String.valueOf(EventJson.MAX_NESTING_DEPTH));
            }
        }
    }

    @Test
    void aNumberLongerThanTheLimitIsRefusedNamingTheLimit() {
        byte[] input = ("{\"schemaVersion\":1,\"n\":" + "9".repeat(EventJson.MAX_NUMBER_LENGTH + 1) + "}")
                .getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> new DeadLetterDeserializer().deserialize("dead", input))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Number value length")
                .hasMessageContaining(String.valueOf(EventJson.MAX_NUMBER_LENGTH));
    }

    static QuickTheory theory() {
        QuickTheory theory = qt().withExamples(EXAMPLES).withShrinkCycles(20).withUnlimitedTestingTime();
        Long seed = Long.getLong("streamtune.fuzz.seed");
        return seed == null ? theory : theory.withFixedSeed(seed);
    }

    /** The property: an event, or a SerializationException with a message; within a few seconds either way. */
    static void assertReadOrRefused(String topic, EventDeserializer<?> deserializer, byte[] input) {
        Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                deserializer.deserialize(topic, input);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        if (thrown == null) {
            return;
        }
        if (!(thrown instanceof SerializationException)
                || thrown.getMessage() == null
                || thrown.getMessage().isBlank()) {
            fail(
                    "topic " + topic + ": expected an event or a SerializationException with a reason, got " + thrown
                            + "\ninput: " + shown(input),
                    thrown);
        }
        assertThat(thrown.getMessage()).as("reason for input %s", shown(input)).startsWith("topic " + topic + ": ");
    }

    static String shown(byte[] input) {
        String text = new String(input, 0, Math.min(input.length, 400), StandardCharsets.UTF_8);
        return input.length <= 400 ? text : text + "... (" + input.length + " bytes)";
    }

    static byte[] json(Object value) {
        try {
            return EventJson.mapper().writeValueAsBytes(value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] nested(String open, String close, int depth, String inner) {
        return (open.repeat(depth) + inner + close.repeat(depth)).getBytes(StandardCharsets.UTF_8);
    }

    /** The kinds of damage done to a valid record. */
    enum Mutation {
        RANDOM_BYTES {
            @Override
            byte[] apply(byte[] valid, Random random) {
                byte[] bytes = new byte[random.nextInt(256)];
                random.nextBytes(bytes);
                return bytes;
            }
        },
        TRUNCATED {
            @Override
            byte[] apply(byte[] valid, Random random) {
                return Arrays.copyOf(valid, random.nextInt(valid.length));
            }
        },
        FLIPPED_BYTES {
            @Override
            byte[] apply(byte[] valid, Random random) {
                byte[] bytes = valid.clone();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return bytes;
            }
        },
        INSERTED_BYTES {
            @Override
            byte[] apply(byte[] valid, Random random) {
                int at = random.nextInt(valid.length + 1);
                byte[] inserted = PUNCTUATION[random.nextInt(PUNCTUATION.length)].getBytes(StandardCharsets.UTF_8);
                byte[] bytes = new byte[valid.length + inserted.length];
                System.arraycopy(valid, 0, bytes, 0, at);
                System.arraycopy(inserted, 0, bytes, at, inserted.length);
                System.arraycopy(valid, at, bytes, at + inserted.length, valid.length - at);
                return bytes;
            }
        },
        WRONG_TYPE {
            @Override
            byte[] apply(byte[] valid, Random random) {
                JsonNode tree = tree(valid);
                List<ContainerNode<?>> parents = new ArrayList<>();
                containers(tree, parents);
                ContainerNode<?> parent = parents.get(random.nextInt(parents.size()));
                JsonNode replacement = HOSTILE_VALUES.get(random.nextInt(HOSTILE_VALUES.size()));
                if (parent instanceof ObjectNode object && object.size() > 0) {
                    List<String> names = new ArrayList<>();
                    object.fieldNames().forEachRemaining(names::add);
                    object.set(names.get(random.nextInt(names.size())), replacement);
                } else if (parent instanceof ArrayNode array && array.size() > 0) {
                    array.set(random.nextInt(array.size()), replacement);
                }
                return json(tree);
            }
        },
        MISSING_FIELD {
            @Override
            byte[] apply(byte[] valid, Random random) {
                ObjectNode tree = (ObjectNode) tree(valid);
                List<String> names = new ArrayList<>();
                tree.fieldNames().forEachRemaining(names::add);
                tree.remove(names.get(random.nextInt(names.size())));
                return json(tree);
            }
        },
        SCHEMA_VERSION {
            @Override
            byte[] apply(byte[] valid, Random random) {
                ObjectNode tree = (ObjectNode) tree(valid);
                JsonNode version = HOSTILE_VALUES.get(random.nextInt(HOSTILE_VALUES.size()));
                tree.set(
                        "schemaVersion",
                        random.nextBoolean() ? version : JsonNodeFactory.instance.numberNode(random.nextInt()));
                return json(tree);
            }
        },
        NOT_AN_OBJECT {
            @Override
            byte[] apply(byte[] valid, Random random) {
                return json(HOSTILE_VALUES.get(random.nextInt(HOSTILE_VALUES.size())));
            }
        };

        abstract byte[] apply(byte[] valid, Random random);

        private static final String[] PUNCTUATION = {
            "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "-", "e9", "\u0000", "\uD83D"
        };

        private static JsonNode tree(byte[] valid) {
            try {
                return EventJson.mapper().readTree(valid);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static void containers(JsonNode node, List<ContainerNode<?>> into) {
            if (node instanceof ContainerNode<?> container) {
                into.add(container);
                node.forEach(child -> containers(child, into));
            }
        }
    }

    /** Values of every JSON type, at the edges: what a field of any type may find instead of what it expects. */
    static final List<JsonNode> HOSTILE_VALUES = hostileValues();

    private static List<JsonNode> hostileValues() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        List<JsonNode> values = new ArrayList<>();
        values.add(json.nullNode());
        values.add(json.booleanNode(true));
        values.add(json.textNode(""));
        values.add(json.textNode("x".repeat(100_000)));
        values.add(json.textNode("not-an-instant"));
        values.add(json.numberNode(-1));
        values.add(json.numberNode(Integer.MAX_VALUE + 1L));
        values.add(json.numberNode(Long.MIN_VALUE));
        values.add(json.numberNode(new BigInteger("9".repeat(900))));
        values.add(json.numberNode(new BigDecimal("1e999999")));
        values.add(json.numberNode(Double.NaN));
        values.add(json.numberNode(1.5));
        values.add(json.arrayNode());
        values.add(json.arrayNode().add(json.nullNode()).add("x").add(1));
        values.add(json.objectNode());
        values.add(json.objectNode().putNull("x"));
        return values;
    }
}
