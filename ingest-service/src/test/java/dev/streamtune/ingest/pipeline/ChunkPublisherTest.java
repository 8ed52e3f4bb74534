package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.registry.ChunkLedger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkPublisherTest {

    private final List<String> events = new ArrayList<>();
    private final List<Conversation> sent = new ArrayList<>();
    private final List<DeadLetter> sentLetters = new ArrayList<>();
    private final List<ChunkLedger.Seen> recorded = new ArrayList<>();
    private final List<ChunkLedger.Counts> recordedCounts = new ArrayList<>();

    private final ChunkLedger ledger = (dataset, source, splitPolicy, seen, counts) -> {
        events.add("recorded " + dataset + " " + source + " " + splitPolicy);
        recorded.addAll(seen);
        recordedCounts.add(counts);
    };

    @Test
    void conversationsGoOutInTheirSplitsWithTheLettersAndAreRecordedOnlyAfterKafkaAcknowledged() throws Exception {
        Candidate plain = Candidates.of("Q1", "A1");
        Candidate signed = Candidates.of("Q2", "A2");
        MinHash.Signature signature = new MinHash(16).sign(signed.prototype().messages());
        DeadLetter letter = DeadLetter.from("ingest", SourceRef.inFile(SourceRef.Kind.UPLOAD, "f", 3, 3))
                .dataset("ds").reason("line 3: broken").build();
        Tally tally = new Tally(10);
        tally.unused("filter x", null);

        publisher(this::acknowledge).publish(List.of(new ChunkPublisher.Placed(plain, Split.VALID, null),
                new ChunkPublisher.Placed(signed, Split.TEST, signature)), List.of(letter), tally);

        assertThat(events).containsExactly("sent 2 conversations, 1 letters", "recorded ds upload 90/10");
        assertThat(sent).extracting(Conversation::id, Conversation::split)
                .containsExactly(tuple(plain.id(), Split.VALID),
                        tuple(signed.id(), Split.TEST));
        assertThat(sentLetters).containsExactly(letter);
        assertThat(recorded).extracting(ChunkLedger.Seen::id, ChunkLedger.Seen::split, ChunkLedger.Seen::dataset)
                .containsExactly(tuple(plain.id(), Split.VALID, "ds"),
                        tuple(signed.id(), Split.TEST, "ds"));
        assertThat(recorded.get(0).signature()).isNull();
        assertThat(recorded.get(1).signature()).isEqualTo(signature.values());
        assertThat(recorded.get(1).bands()).isEqualTo(signature.bandKeys());
        assertThat(recordedCounts.get(0).byOutcomeAndSplit()).isEqualTo(Map.of(
                "published", Map.of("valid", 1L, "test", 1L),
                "unused", Map.of("none", 1L)));
    }

    @Test
    void aChunkKafkaDidNotAcknowledgeIsNotRecorded() {
        Candidate candidate = Candidates.of("Q", "A");
        ChunkPublisher.Sender failing = (conversations, letters) -> {
            throw new IllegalStateException("Kafka is unavailable");
        };

        assertThatThrownBy(() -> publisher(failing).publish(
                List.of(new ChunkPublisher.Placed(candidate, Split.TRAIN, null)), List.of(), new Tally(10)))
                .hasMessage("Kafka is unavailable");
        assertThat(recorded).isEmpty();
        assertThat(events).isEmpty();
    }

    private ChunkPublisher publisher(ChunkPublisher.Sender sender) {
        return new ChunkPublisher(ledger, sender, "ds", "upload", "90/10");
    }

    private void acknowledge(List<Conversation> conversations, List<DeadLetter> letters) {
        events.add("sent " + conversations.size() + " conversations, " + letters.size() + " letters");
        sent.addAll(conversations);
        sentLetters.addAll(letters);
    }
}
