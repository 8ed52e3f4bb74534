package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Message;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.ingest.filter.MetadataPredicate;
import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.normalize.ConversationId;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.reader.RawRecord;
import dev.streamtune.ingest.split.SplitPolicy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordUnderstandingTest {

    private static final String FILE = "chats.jsonl";

    private final Recorded verdicts = new Recorded();

    @Test
    void aRecordInAnyFormatBecomesACandidateCarryingItsContentIdAndSource() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(
                1,
                "{\"conversations\":[{\"from\":\"human\",\"value\":\"Hi\"},{\"from\":\"gpt\",\"value\":\"Hello\"}]}"));
        understanding.accept(line(2, "{\"instruction\":\"Add\",\"input\":\"1+1\",\"output\":\"2\"}"));

        assertThat(verdicts.formats).containsExactly(RecordFormat.SHAREGPT, RecordFormat.ALPACA);
        assertThat(verdicts.candidates).hasSize(2);
        Conversation chat = verdicts.candidates.get(0).prototype();
        assertThat(chat.messages()).containsExactly(Message.user("Hi"), Message.assistant("Hello"));
        assertThat(chat.id()).isEqualTo(ConversationId.of(chat.messages()));
        assertThat(chat.dataset()).isEqualTo("ds");
        assertThat(chat.source()).isEqualTo(source(1));
        assertThat(chat.format()).isEqualTo("sharegpt");
        Conversation instruction = verdicts.candidates.get(1).prototype();
        assertThat(instruction.instruction().instruction()).isEqualTo("Add");
        assertThat(instruction.messages()).containsExactly(Message.user("Add\n\n1+1"), Message.assistant("2"));
        assertThat(verdicts.letters).isEmpty();
        assertThat(verdicts.unused).isEmpty();
    }

    @Test
    void aRecordThatCannotBecomeAConversationIsDeadLetteredWithWhereWhichFieldAndThePayload() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);
        String wrongType = "{\"instruction\":\"Add\",\"output\":6}";
        String userLast = "{\"messages\":[{\"role\":\"user\",\"content\":\"Anyone?\"}]}";

        understanding.accept(line(4, wrongType));
        understanding.accept(line(5, userLast));

        assertThat(verdicts.candidates).isEmpty();
        assertThat(verdicts.letters).hasSize(2);
        DeadLetter first = verdicts.letters.get(0);
        assertThat(first.reason()).startsWith("line 4: ").contains("'output'");
        assertThat(first.field()).isEqualTo("output");
        assertThat(first.payload()).isEqualTo(wrongType);
        assertThat(first.dataset()).isEqualTo("ds");
        assertThat(first.stage()).isEqualTo("ingest");
        assertThat(first.source()).isEqualTo(source(4));
        // Read as OpenAI messages, then refused by normalisation: still one dead letter at its line.
        assertThat(verdicts.formats).containsExactly(RecordFormat.OPENAI);
        assertThat(verdicts.letters.get(1).reason()).startsWith("line 5: ");
        assertThat(verdicts.letters.get(1).payload()).isEqualTo(userLast);
    }

    @Test
    void aRecordTheReaderCouldNotParseKeepsTheReadersReasonAndItsCutPayload() {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);
        byte[] head = "{\"conversations\": [".getBytes(StandardCharsets.UTF_8);

        understanding.accept(RawRecord.failed(source(7), head, 5000, "line 7: the record is not valid JSON"));

        DeadLetter letter = verdicts.letters.get(0);
        assertThat(letter.reason()).isEqualTo("line 7: the record is not valid JSON");
        assertThat(letter.payload()).isEqualTo("{\"conversations\": [");
        assertThat(letter.payloadBytes()).isEqualTo(5000);
        assertThat(letter.payloadTruncated()).isTrue();
        assertThat(verdicts.formats).isEmpty();
    }

    @Test
    void aConversationTheFiltersDoNotWantIsUnusedWithTheReason() throws Exception {
        RecordFilter augmentedOnly =
                new RecordFilter(List.of(MetadataPredicate.parse("metadata.augmented==true")), null, null, null, null);
        RecordUnderstanding understanding = understanding(Door.UPLOAD, augmentedOnly);

        understanding.accept(
                line(
                        1,
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}],\"metadata\":{\"augmented\":false}}"));
        understanding.accept(
                line(
                        2,
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}],\"metadata\":{\"augmented\":true}}"));

        assertThat(verdicts.unused).containsExactly("filter metadata.augmented==true");
        assertThat(verdicts.candidates)
                .extracting(c -> c.prototype().messages().get(0))
                .containsExactly(Message.user("c"));
        assertThat(verdicts.formats).containsExactly(RecordFormat.OPENAI, RecordFormat.OPENAI);
    }

    @Test
    void oasstMessageRowsOfAFileBecomeThreadsAtTheEnd() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(1, oasstRow("a1", "p1", "assistant", "Blue light scatters.")));
        understanding.accept(line(2, oasstRow("p1", null, "prompter", "Why is the sky blue?")));
        assertThat(verdicts.candidates).isEmpty();

        understanding.finish();

        assertThat(verdicts.candidates)
                .singleElement()
                .satisfies(thread -> assertThat(thread.prototype().messages())
                        .containsExactly(
                                Message.user("Why is the sky blue?"), Message.assistant("Blue light scatters.")));
        assertThat(verdicts.formats).containsExactly(RecordFormat.OASST);
    }

    @Test
    void oasstMessagesInAParentCycleAreEachRejectedNamingTheCycle() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(1, oasstRow("p1", null, "prompter", "Why is the sky blue?")));
        understanding.accept(line(2, oasstRow("a1", "p1", "assistant", "Blue light scatters.")));
        understanding.accept(line(3, oasstRow("c1", "c2", "prompter", "Round")));
        understanding.accept(line(4, oasstRow("c2", "c1", "assistant", "and round")));
        understanding.accept(line(5, oasstRow("s1", "s1", "assistant", "Myself")));
        understanding.accept(line(6, oasstRow("r1", "c2", "prompter", "Hanging off the cycle")));
        understanding.finish();

        assertThat(verdicts.candidates).hasSize(1);
        assertThat(verdicts.letters)
                .extracting(DeadLetter::source)
                .containsExactlyInAnyOrder(source(3), source(4), source(5), source(6));
        assertThat(verdicts.letters)
                .allSatisfy(letter -> assertThat(letter.field()).isEqualTo("parent_id"));
        assertThat(reasonAt(3))
                .startsWith("line 3: ")
                .contains("OASST message c1", "parent_id cycle", "c1 -> c2 -> c1");
        assertThat(reasonAt(4)).contains("OASST message c2", "parent_id cycle", "c2 -> c1 -> c2");
        assertThat(reasonAt(5)).contains("OASST message s1", "its own parent");
        assertThat(reasonAt(6)).contains("OASST message r1", "c1 -> c2 -> c1");
        assertThat(reasonAt(3)).isNotEqualTo(reasonAt(4));
    }

    @Test
    void aFlatOasstExportIsUnderstoodOneTreeAtATime() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);
        int trees = 50;
        long line = 0;
        int mostHeld = 0;

        for (int tree = 0; tree < trees; tree++) {
            // Within its tree a reply may come before the message it replies to.
            understanding.accept(
                    line(++line, oasstRow("a" + tree, "p" + tree, "t" + tree, "assistant", "Answer " + tree)));
            // The row that starts a tree releases the one before it, with its verdict.
            assertThat(verdicts.candidates).hasSize(tree);
            understanding.accept(line(++line, oasstRow("p" + tree, null, "t" + tree, "prompter", "Question " + tree)));
            understanding.accept(
                    line(++line, oasstRow("f" + tree, "a" + tree, "t" + tree, "prompter", "Thanks " + tree)));
            mostHeld = Math.max(mostHeld, understanding.heldOasstMessages());
        }
        understanding.finish();

        assertThat(mostHeld).isEqualTo(3);
        assertThat(understanding.heldOasstMessages()).isZero();
        assertThat(verdicts.candidates).hasSize(trees);
        assertThat(verdicts.candidates.get(trees - 1).prototype().messages())
                .containsExactly(Message.user("Question 49"), Message.assistant("Answer 49"));
        assertThat(verdicts.letters).isEmpty();
    }

    @Test
    void anOasstTreeOverTheLimitIsRejectedWholeOnceAndNotHeld() throws Exception {
        String prompt = oasstRow("p1", null, "big", "prompter", "Why is the sky blue?");
        String answer = oasstRow("a1", "p1", "big", "assistant", "Blue light scatters.");
        RecordUnderstanding understanding =
                understanding(Door.UPLOAD, RecordFilter.NONE, bytes(prompt).length + bytes(answer).length);

        understanding.accept(line(1, prompt));
        understanding.accept(line(2, answer));
        assertThat(understanding.heldOasstMessages()).isEqualTo(2);
        understanding.accept(line(3, oasstRow("f1", "a1", "big", "prompter", "And at sunset?")));
        assertThat(understanding.heldOasstMessages()).isZero();
        understanding.accept(line(4, oasstRow("a2", "f1", "big", "assistant", "A longer path.")));
        assertThat(understanding.heldOasstMessages()).isZero();
        understanding.accept(line(5, oasstRow("q1", null, "small", "prompter", "Is water wet?")));
        understanding.accept(line(6, oasstRow("w1", "q1", "small", "assistant", "It wets.")));
        understanding.finish();

        // One verdict for the tree, as a tree that fits yields one per thread: the receipt still balances.
        assertThat(verdicts.letters).singleElement().satisfies(letter -> {
            assertThat(letter.source()).isEqualTo(source(1));
            assertThat(letter.field()).isEqualTo("message_tree_id");
            assertThat(letter.reason())
                    .startsWith("line 1: ")
                    .contains("OASST tree big: 4 messages", "ingest.oasst-max-tree-size");
        });
        assertThat(verdicts.candidates)
                .singleElement()
                .satisfies(thread -> assertThat(thread.prototype().messages())
                        .containsExactly(Message.user("Is water wet?"), Message.assistant("It wets.")));
    }

    @Test
    void aRowOfAnOasstTreeThatAlreadyEndedIsRejectedOnItsOwn() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(1, oasstRow("p1", null, "t1", "prompter", "Why is the sky blue?")));
        understanding.accept(line(2, oasstRow("a1", "p1", "t1", "assistant", "Blue light scatters.")));
        understanding.accept(line(3, oasstRow("q1", null, "t2", "prompter", "Is water wet?")));
        understanding.accept(line(4, oasstRow("w1", "q1", "t2", "assistant", "It wets.")));
        understanding.accept(line(5, oasstRow("a9", "p1", "t1", "assistant", "Late.")));
        understanding.finish();

        assertThat(verdicts.candidates).hasSize(2);
        assertThat(verdicts.letters).singleElement().satisfies(letter -> {
            assertThat(letter.source()).isEqualTo(source(5));
            assertThat(letter.field()).isEqualTo("message_tree_id");
            assertThat(letter.reason()).contains("OASST message a9 belongs to tree t1, whose rows ended before it");
        });
    }

    @Test
    void oasstRowsWithoutATreeIdAreLinkedTogetherAtTheEndUnderTheSameLimit() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(1, oasstRow("a1", "p1", null, "assistant", "Blue light scatters.")));
        understanding.accept(line(2, oasstRow("q1", null, "t2", "prompter", "Is water wet?")));
        understanding.accept(line(3, oasstRow("w1", "q1", "t2", "assistant", "It wets.")));
        understanding.accept(line(4, oasstRow("p1", null, null, "prompter", "Why is the sky blue?")));
        understanding.finish();

        assertThat(verdicts.candidates)
                .extracting(c -> c.prototype().messages().get(0))
                .containsExactly(Message.user("Is water wet?"), Message.user("Why is the sky blue?"));
        assertThat(verdicts.letters).isEmpty();

        String row = oasstRow("p2", null, null, "prompter", "Too long for the limit");
        RecordUnderstanding bounded = understanding(Door.UPLOAD, RecordFilter.NONE, bytes(row).length - 1);
        bounded.accept(line(1, row));
        assertThat(bounded.heldOasstMessages()).isZero();
        bounded.finish();
        assertThat(verdicts.letters)
                .singleElement()
                .satisfies(letter ->
                        assertThat(letter.reason()).contains("OASST rows without a message_tree_id: 1 messages"));
    }

    @Test
    void anOasstMessageRowOnTheTopicIsRefusedAtOnce() throws Exception {
        RecordUnderstanding understanding = understanding(Door.TOPIC, RecordFilter.NONE);
        SourceRef offset = SourceRef.inTopic("conversations-raw", 0, 17);
        String row = oasstRow("a1", "p1", "assistant", "Alone.");

        understanding.accept(RawRecord.parsed(offset, EventJson.mapper().readTree(row), bytes(row), row.length()));
        understanding.finish();

        assertThat(verdicts.candidates).isEmpty();
        assertThat(verdicts.letters).singleElement().satisfies(letter -> {
            assertThat(letter.reason()).startsWith("partition 0 offset 17: ").contains("on its own");
            assertThat(letter.source()).isEqualTo(offset);
        });
    }

    @Test
    void aTreeThatYieldsNoConversationIsUnusedNotRejected() throws Exception {
        RecordUnderstanding understanding = understanding(Door.UPLOAD, RecordFilter.NONE);

        understanding.accept(line(
                1,
                "{\"message_tree_id\":\"t\",\"prompt\":{\"message_id\":\"p\",\"role\":\"prompter\","
                        + "\"text\":\"Nobody answered.\",\"replies\":[]}}"));

        assertThat(verdicts.unused).hasSize(1);
        assertThat(verdicts.candidates).isEmpty();
        assertThat(verdicts.letters).isEmpty();
    }

    @Test
    void aRecordRefusedForSomethingOutsideItIsDeadLetteredWhereItIsWithItsPayload() throws Exception {
        RecordUnderstanding understanding = understanding(Door.TOPIC, RecordFilter.NONE);
        SourceRef offset = SourceRef.inTopic("conversations-raw", 2, 40);
        String text = "{\"text\":\"Fine on its own.\"}";

        understanding.refuse(
                RawRecord.parsed(offset, EventJson.mapper().readTree(text), bytes(text), text.length()),
                "header 'format' is 'yaml'");

        assertThat(verdicts.candidates).isEmpty();
        assertThat(verdicts.formats).isEmpty();
        assertThat(verdicts.letters).singleElement().satisfies(letter -> {
            assertThat(letter.reason()).isEqualTo("partition 2 offset 40: header 'format' is 'yaml'");
            assertThat(letter.payload()).isEqualTo(text);
            assertThat(letter.source()).isEqualTo(offset);
        });
    }

    private RecordUnderstanding understanding(Door door, RecordFilter filter) {
        return understanding(door, filter, 1 << 20);
    }

    private RecordUnderstanding understanding(Door door, RecordFilter filter, long oasstTreeLimit) {
        IngestOptions options = new IngestOptions(
                FormatOptions.DEFAULTS,
                null,
                NormalizationPolicy.DEFAULT,
                filter,
                SplitPolicy.parse("90/10", 42),
                false,
                null);
        return new RecordUnderstanding("ds", door, options, 4096, oasstTreeLimit, verdicts);
    }

    private String reasonAt(long line) {
        return verdicts.letters.stream()
                .filter(l -> l.source().equals(source(line)))
                .findFirst()
                .orElseThrow()
                .reason();
    }

    private static RawRecord line(long line, String text) throws JsonProcessingException {
        return RawRecord.parsed(source(line), EventJson.mapper().readTree(text), bytes(text), bytes(text).length);
    }

    private static SourceRef source(long line) {
        return SourceRef.inFile(SourceRef.Kind.UPLOAD, FILE, line, line);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String oasstRow(String id, String parent, String role, String text) {
        return oasstRow(id, parent, "t", role, text);
    }

    /** A flat export row; a null {@code tree} leaves message_tree_id out. */
    private static String oasstRow(String id, String parent, String tree, String role, String text) {
        return "{\"message_id\":\"" + id + "\",\"parent_id\":" + (parent == null ? "null" : "\"" + parent + "\"")
                + (tree == null ? "" : ",\"message_tree_id\":\"" + tree + "\"") + ",\"role\":\"" + role
                + "\",\"text\":\"" + text + "\",\"rank\":0}";
    }

    private static final class Recorded implements RecordUnderstanding.Verdicts {
        final List<RecordFormat> formats = new ArrayList<>();
        final List<Candidate> candidates = new ArrayList<>();
        final List<DeadLetter> letters = new ArrayList<>();
        final List<String> unused = new ArrayList<>();

        @Override
        public void read(RecordFormat format) {
            formats.add(format);
        }

        @Override
        public void candidate(Candidate candidate) {
            candidates.add(candidate);
        }

        @Override
        public void rejected(DeadLetter letter) {
            letters.add(letter);
        }

        @Override
        public void unused(String reason) {
            unused.add(reason);
        }
    }
}
