package dev.streamtune.eval.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.eval.watch.DeadLetterTally.Group;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.EventSerializer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class DeadLetterTallyTest {

    private final EventSerializer<DeadLetter> serializer = new EventSerializer<>();
    private final DeadLetterTally tally = new DeadLetterTally(Map.of());
    private long offset;

    @Test
    void recordsRefusedForOneReasonAreOneRowWhateverNamesThem() {
        for (int i = 0; i < 5_000; i++) {
            String where = "checkpoints-" + (i % 3) + "@" + (1_000 + i);
            count(DeadLetter.from("eval", SourceRef.inTopic(Topics.CHECKPOINTS, i % 3, 1_000 + i))
                    .recipe("qa")
                    .reason(where + " (key run-" + i + ") is not a checkpoint announcement")
                    .build());
            count(DeadLetter.from("tokenize", SourceRef.inTopic(Topics.EXAMPLES, 0, i))
                    .recipe("qa")
                    .reason("example k" + Integer.toHexString(i * 7919) + ": " + (4_097 + i)
                            + " prompt tokens leave none for the completion within max_length 4096")
                    .build());
        }

        List<Group> groups = tally.of("qa", Set.of());

        assertThat(groups)
                .extracting(Group::stage, Group::count)
                .containsExactlyInAnyOrder(Tuple.tuple("eval", 5_000L), Tuple.tuple("tokenize", 5_000L));
        assertThat(groups)
                .extracting(Group::reason)
                .containsExactlyInAnyOrder(
                        "<record> (key <key>) is not a checkpoint announcement",
                        "example <id>: <n> prompt tokens leave none for the completion within max_length <n>");
        assertThat(groups)
                .filteredOn(g -> g.stage().equals("eval"))
                .singleElement()
                .satisfies(g -> assertThat(g.firstReason()).startsWith("checkpoints-0@1000 (key run-0)"));
    }

    @Test
    void differentReasonsStayApart() {
        count(letter("ingest", "line 3, column 7: field 'output': expected a string, found number"));
        count(letter("ingest", "line 9: field 'output': expected a string, found number"));
        count(letter("ingest", "line 12: field 'messages': expected an array, found object"));
        count(letter("format", "conversation has no assistant turn to train"));

        assertThat(tally.of(null, Set.of()))
                .extracting(Group::reason, Group::count)
                .containsExactlyInAnyOrder(
                        Tuple.tuple("field 'output': expected a string, found number", 2L),
                        Tuple.tuple("field 'messages': expected an array, found object", 1L),
                        Tuple.tuple("conversation has no assistant turn to train", 1L));
    }

    @Test
    void kindsBeyondTheBoundShareOneRowAndAreStillCounted() {
        int kinds = DeadLetterTally.MAX_GROUPS + 250;
        for (int i = 0; i < kinds; i++) {
            // a distinct word of letters per kind: nothing a template takes out
            count(letter("ingest", "field '" + lettersFor(i) + "' refused"));
        }

        List<Group> groups = tally.of(null, Set.of());

        assertThat(groups).hasSize(DeadLetterTally.MAX_GROUPS + 1);
        assertThat(groups.stream().mapToLong(Group::count).sum()).isEqualTo(kinds);
        assertThat(groups)
                .filteredOn(g -> g.reason().equals(DeadLetterTally.OTHER_REASONS))
                .singleElement()
                .extracting(Group::count)
                .isEqualTo(250L);
        // the overflow row is shown on every recipe's page, even one naming its datasets
        assertThat(tally.of("qa", Set.of("alpaca"))).extracting(Group::reason).contains(DeadLetterTally.OTHER_REASONS);
    }

    private static String lettersFor(int i) {
        StringBuilder word = new StringBuilder();
        for (int n = i; n > 0 || word.isEmpty(); n /= 26) {
            word.append((char) ('a' + n % 26));
        }
        return word.toString();
    }

    private DeadLetter letter(String stage, String reason) {
        return DeadLetter.from(stage, SourceRef.inTopic(Topics.CONVERSATIONS_RAW, 0, offset))
                .dataset("alpaca")
                .reason(reason)
                .build();
    }

    private void count(DeadLetter letter) {
        byte[] value = serializer.serialize(Topics.CONVERSATIONS_REJECTED, letter);
        tally.count(new ConsumerRecord<>(Topics.CONVERSATIONS_REJECTED, 0, offset++, null, value));
    }
}
