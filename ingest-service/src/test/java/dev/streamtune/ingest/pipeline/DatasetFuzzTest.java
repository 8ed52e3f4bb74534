package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.serde.ConversationDeserializer;
import dev.streamtune.events.serde.EventSerializer;
import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FieldMapping;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.format.RoleNames;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.reader.Containers;
import dev.streamtune.ingest.reader.RawRecord;
import dev.streamtune.ingest.reader.ReaderLimits;
import dev.streamtune.ingest.reader.RecordReader;
import dev.streamtune.ingest.split.SplitPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.QuickTheory;

/**
 * Uploaded files as they arrive damaged or hostile: a small valid file of every format (ShareGPT, OpenAI messages,
 * Alpaca, Dolly, OASST trees and message rows, CSV, JSON, JSON Lines, Parquet) with bytes flipped, cut, inserted,
 * deleted or repeated, and plain random bytes. Read through {@link Containers} and {@link RecordUnderstanding} as
 * an upload is: every record ends as a conversation (one that survives its topic) or as a dead letter whose reason
 * says where it is, or the file as a whole is refused with an {@link UncheckedIOException} naming it; nothing else
 * is thrown, and every file is done within seconds.
 *
 * <p>{@code -Dstreamtune.fuzz.examples=N} draws more files than the suite's 300; {@code -Dstreamtune.fuzz.seed=S}
 * replays a run.
 */
class DatasetFuzzTest {

    private static final int EXAMPLES = Integer.getInteger("streamtune.fuzz.examples", 300);
    private static final ReaderLimits LIMITS = new ReaderLimits(64 * 1024, 256);

    @TempDir
    static Path dir;

    /** A valid file to damage: its name (whose extension picks the reader) and its bytes. */
    record Sample(String name, byte[] bytes) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Sample> SAMPLES = new ArrayList<>();

    @BeforeAll
    static void samples() throws IOException {
        sample("sharegpt.jsonl", """
                {"id": "a", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
                {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}], "metadata": {"k": [1, {"x": null}]}}
                """);
        sample("openai.jsonl", """
                {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
                {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "Because."}]}
                """);
        sample("alpaca.json", """
                [
                  {"instruction": "Add", "input": "1+1", "output": "2"},
                  {"instruction": "Greet", "input": "", "output": "Hello!"}
                ]
                """);
        sample("dolly.jsonl", """
                {"instruction": "Name a colour.", "context": "", "response": "Red.", "category": "open_qa"}
                {"instruction": "Summarise.", "context": "A long text.", "response": "Short.", "category": "summarization"}
                """);
        sample("oasst-trees.jsonl", """
                {"message_tree_id": "t1", "prompt": {"message_id": "m1", "role": "prompter", "text": "Hi", "lang": "en", "replies": [{"message_id": "m2", "role": "assistant", "text": "Hello", "rank": 0, "replies": [{"message_id": "m3", "role": "prompter", "text": "More", "replies": [{"message_id": "m4", "role": "assistant", "text": "Sure", "replies": []}]}]}]}}
                """);
        sample("oasst-rows.jsonl", """
                {"message_id": "m1", "parent_id": null, "message_tree_id": "t1", "role": "prompter", "text": "Hi", "lang": "en"}
                {"message_id": "m2", "parent_id": "m1", "message_tree_id": "t1", "role": "assistant", "text": "Hello", "rank": 0}
                {"message_id": "m3", "parent_id": "m1", "message_tree_id": "t1", "role": "assistant", "text": "Hey", "rank": 1}
                {"message_id": "n1", "parent_id": null, "message_tree_id": "t2", "role": "prompter", "text": "Why?", "lang": "en"}
                {"message_id": "n2", "parent_id": "n1", "message_tree_id": "t2", "role": "assistant", "text": "Because.", "rank": 0}
                """);
        sample("alpaca.csv", """
                instruction,input,output
                Add,1+1,2
                "Say ""hi"" now","",Hi
                Quote,"a, b
                c",done
                """);
        MessageType type = MessageTypeParser.parseMessageType("""
                message row {
                  required binary instruction (STRING);
                  optional binary input (STRING);
                  required binary output (STRING);
                  optional int32 score;
                }
                """);
        Path parquet = dir.resolve("sample.parquet");
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(parquet))
                .withType(type)
                .build()) {
            SimpleGroupFactory rows = new SimpleGroupFactory(type);
            writer.write(rows.newGroup()
                    .append("instruction", "Add")
                    .append("input", "1+1")
                    .append("output", "2"));
            writer.write(rows.newGroup()
                    .append("instruction", "Greet")
                    .append("output", "Hi")
                    .append("score", 3));
        }
        SAMPLES.add(new Sample("alpaca.parquet", Files.readAllBytes(parquet)));
    }

    private static void sample(String name, String text) {
        SAMPLES.add(new Sample(name, text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void everyDamagedFileEndsAsConversationsAndReasonedRejectionsOrIsRefusedAsAWhole() {
        theory().forAll(
                        integers().between(0, SAMPLES.size() - 1),
                        integers().between(0, Damage.values().length - 1),
                        longs().all())
                .checkAssert((sample, damage, seed) -> {
                    Sample valid = SAMPLES.get(sample);
                    byte[] bytes = Damage.values()[damage].apply(valid.bytes(), new Random(seed));
                    assertUnderstood(valid.name(), bytes);
                });
    }

    @Test
    void everyValidSampleGivesConversations() {
        for (Sample sample : SAMPLES) {
            Verdicts verdicts = assertUnderstood(sample.name(), sample.bytes());
            assertThat(verdicts.letters).as(sample.name()).isEmpty();
            assertThat(verdicts.conversations).as(sample.name()).isNotEmpty();
        }
    }

    // Hostile files no random damage is likely to produce.

    @Test
    void deepNestingAndHugeNumbersInARecordAreRejectedAtTheirLine() {
        String deep = "[".repeat(30_000) + "]".repeat(30_000); // within the record size limit
        String line =
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\":"
                        + " \"Hello\"}], \"metadata\": {\"n\": " + "9".repeat(2_000) + "}}";
        for (Sample file : List.of(
                new Sample("deep.jsonl", (deep + "\n").getBytes(StandardCharsets.UTF_8)),
                new Sample("deep.json", ("[" + deep + "]").getBytes(StandardCharsets.UTF_8)),
                new Sample("number.jsonl", (line + "\n").getBytes(StandardCharsets.UTF_8)))) {
            Verdicts verdicts = assertUnderstood(file.name(), file.bytes());
            assertThat(verdicts.letters)
                    .as(file.name())
                    .singleElement()
                    .satisfies(letter -> assertThat(letter.reason())
                            .startsWith("line 1")
                            .containsAnyOf("nesting depth", "Number value length"));
        }
    }

    @Test
    void aLongChainOfOasstRowsWithEveryPathTakenIsReadWithoutOverflowingTheStack() {
        StringBuilder rows = new StringBuilder();
        int length = 20_000;
        for (int i = 0; i < length; i++) {
            rows.append("{\"message_id\": \"m")
                    .append(i)
                    .append("\", \"parent_id\": ")
                    .append(i == 0 ? "null" : "\"m" + (i - 1) + "\"")
                    .append(", \"message_tree_id\": \"t\", \"role\": \"")
                    .append(i % 2 == 0 ? "prompter" : "assistant")
                    .append("\", \"text\": \"x\"}\n");
        }
        FormatOptions allPaths =
                new FormatOptions(null, FieldMapping.NONE, RoleNames.DEFAULT, FormatOptions.OasstPaths.ALL);

        Verdicts verdicts = assertUnderstood("chain.jsonl", rows.toString().getBytes(StandardCharsets.UTF_8), allPaths);

        assertThat(verdicts.conversations)
                .singleElement()
                .satisfies(conversation -> assertThat(conversation.messages()).hasSize(length));
    }

    /** The property; returns what became of the file's records. */
    static Verdicts assertUnderstood(String name, byte[] bytes) {
        return assertUnderstood(name, bytes, FormatOptions.DEFAULTS);
    }

    static Verdicts assertUnderstood(String name, byte[] bytes, FormatOptions format) {
        Verdicts verdicts = new Verdicts();
        Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                read(name, bytes, format, verdicts);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        String input = name + " (" + bytes.length + " bytes): " + shown(bytes);
        if (thrown != null) {
            if (!(thrown instanceof UncheckedIOException)
                    || !thrown.getMessage().contains(name)) {
                fail("expected records or the file refused naming it, got " + thrown + "\nfor " + input, thrown);
            }
            return verdicts;
        }
        assertThat(verdicts.verdicts)
                .as("every record has a verdict: %s", input)
                .isGreaterThanOrEqualTo(verdicts.records - verdicts.oasstRows);
        for (DeadLetter letter : verdicts.letters) {
            assertThat(letter.reason())
                    .as("a rejection says where: %s", input)
                    .matches("(?s)(line|record|row) \\d+\\b.+");
        }
        ConversationDeserializer conversations = new ConversationDeserializer();
        EventSerializer<Conversation> serializer = new EventSerializer<>();
        for (Conversation conversation : verdicts.conversations) {
            assertThat(conversations.deserialize("conversations", serializer.serialize("conversations", conversation)))
                    .as("a conversation survives its topic: %s", input)
                    .isEqualTo(conversation);
        }
        return verdicts;
    }

    private static void read(String name, byte[] bytes, FormatOptions format, Verdicts verdicts) throws IOException {
        Path file = Files.createTempDirectory(dir, "upload").resolve(name);
        Files.write(file, bytes);
        IngestOptions options = new IngestOptions(
                format,
                null,
                NormalizationPolicy.DEFAULT,
                RecordFilter.NONE,
                SplitPolicy.parse("90/10", 42),
                false,
                null);
        RecordUnderstanding understanding =
                new RecordUnderstanding("fuzz", Door.UPLOAD, options, LIMITS.payloadBytes(), 64L << 20, verdicts);
        try (RecordReader reader = Containers.open(file, null, Door.UPLOAD.sourceKind(), name, LIMITS)) {
            while (reader.hasNext()) {
                RawRecord record = reader.next();
                verdicts.records++;
                if (record.isParsed()
                        && record.value().has("message_id")
                        && record.value().has("parent_id")) {
                    verdicts.oasstRows++;
                }
                understanding.accept(record);
            }
        }
        understanding.finish();
    }

    private static QuickTheory theory() {
        QuickTheory theory = qt().withExamples(EXAMPLES).withShrinkCycles(20).withUnlimitedTestingTime();
        Long seed = Long.getLong("streamtune.fuzz.seed");
        return seed == null ? theory : theory.withFixedSeed(seed);
    }

    private static String shown(byte[] bytes) {
        String text = new String(bytes, 0, Math.min(bytes.length, 600), StandardCharsets.ISO_8859_1);
        return bytes.length <= 600 ? text : text + "...";
    }

    /** What became of the records of one file. */
    static final class Verdicts implements RecordUnderstanding.Verdicts {
        int records;
        int oasstRows;
        int verdicts;
        final List<Conversation> conversations = new ArrayList<>();
        final List<DeadLetter> letters = new ArrayList<>();

        @Override
        public void read(RecordFormat format) {}

        @Override
        public void candidate(Candidate candidate) {
            verdicts++;
            conversations.add(candidate.prototype());
        }

        @Override
        public void rejected(DeadLetter letter) {
            verdicts++;
            letters.add(letter);
        }

        @Override
        public void unused(String reason) {
            verdicts++;
            assertThat(reason).isNotBlank();
        }
    }

    /** The kinds of damage done to a valid file. */
    enum Damage {
        RANDOM_BYTES {
            @Override
            byte[] apply(byte[] valid, Random random) {
                byte[] bytes = new byte[random.nextInt(1024)];
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
        FLIPPED {
            @Override
            byte[] apply(byte[] valid, Random random) {
                byte[] bytes = valid.clone();
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return bytes;
            }
        },
        OVERWRITTEN {
            @Override
            byte[] apply(byte[] valid, Random random) {
                byte[] bytes = valid.clone();
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    bytes[random.nextInt(bytes.length)] = SPECIAL[random.nextInt(SPECIAL.length)];
                }
                return bytes;
            }
        },
        INSERTED {
            @Override
            byte[] apply(byte[] valid, Random random) {
                int at = random.nextInt(valid.length + 1);
                byte[] inserted = new byte[1 + random.nextInt(16)];
                for (int i = 0; i < inserted.length; i++) {
                    inserted[i] = SPECIAL[random.nextInt(SPECIAL.length)];
                }
                return splice(valid, at, at, inserted);
            }
        },
        DELETED {
            @Override
            byte[] apply(byte[] valid, Random random) {
                int from = random.nextInt(valid.length);
                return splice(valid, from, Math.min(valid.length, from + 1 + random.nextInt(32)), new byte[0]);
            }
        },
        REPEATED {
            @Override
            byte[] apply(byte[] valid, Random random) {
                int from = random.nextInt(valid.length);
                int to = Math.min(valid.length, from + 1 + random.nextInt(64));
                byte[] piece = Arrays.copyOfRange(valid, from, to);
                byte[] repeated = new byte[piece.length * (2 + random.nextInt(50))];
                for (int i = 0; i < repeated.length; i += piece.length) {
                    System.arraycopy(piece, 0, repeated, i, piece.length);
                }
                return splice(valid, from, to, repeated);
            }
        };

        abstract byte[] apply(byte[] valid, Random random);

        private static final byte[] SPECIAL = "{}[]\",:\\\n\r\u0000 0-e".getBytes(StandardCharsets.UTF_8);

        private static byte[] splice(byte[] bytes, int from, int to, byte[] replacement) {
            byte[] spliced = new byte[bytes.length - (to - from) + replacement.length];
            System.arraycopy(bytes, 0, spliced, 0, from);
            System.arraycopy(replacement, 0, spliced, from, replacement.length);
            System.arraycopy(bytes, to, spliced, from + replacement.length, bytes.length - to);
            return spliced;
        }
    }
}
