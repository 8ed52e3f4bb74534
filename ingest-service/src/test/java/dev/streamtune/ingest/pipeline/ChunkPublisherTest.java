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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkPublisherTest {

    private final List<String> events = new ArrayList<>();
    private final List<Conversation> sent = new ArrayList<>();
    private final List<DeadLetter> sentLetters = new ArrayList<>();
    private final Ledger ledger = new Ledger();

    @Test
    void conversationsGoOutInTheirSplitsWithTheLettersAndAreRecordedOnlyAfterKafkaAcknowledged() throws Exception {
        Candidate plain = Candidates.of("Q1", "A1");
        Candidate signed = Candidates.of("Q2", "A2");
        MinHash.Signature signature = new MinHash(16).sign(signed.prototype().messages());
        DeadLetter letter = DeadLetter.from("ingest", SourceRef.inFile(SourceRef.Kind.UPLOAD, "f", 3, 3))
                .dataset("ds")
                .reason("line 3: broken")
                .build();
        Tally tally = new Tally(10);
        tally.unused("filter x", null);

        List<ChunkPublisher.Placed> lost = publisher(this::acknowledge)
                .publish(
                        List.of(
                                new ChunkPublisher.Placed(plain, Split.VALID, null),
                                new ChunkPublisher.Placed(signed, Split.TEST, signature)),
                        List.of(letter),
                        tally);

        assertThat(lost).isEmpty();
        assertThat(events)
                .containsExactly("claimed 2", "sent 2 conversations, 1 letters", "recorded ds upload 90/10", "closed");
        assertThat(sent)
                .extracting(Conversation::id, Conversation::split)
                .containsExactly(tuple(plain.id(), Split.VALID), tuple(signed.id(), Split.TEST));
        assertThat(sentLetters).containsExactly(letter);
        assertThat(ledger.claimed)
                .extracting(ChunkLedger.Seen::id, ChunkLedger.Seen::split, ChunkLedger.Seen::dataset)
                .containsExactly(tuple(plain.id(), Split.VALID, "ds"), tuple(signed.id(), Split.TEST, "ds"));
        assertThat(ledger.claimed.get(0).signature()).isNull();
        assertThat(ledger.claimed.get(1).signature()).isEqualTo(signature.values());
        assertThat(ledger.claimed.get(1).bands()).isEqualTo(signature.bandKeys());
        assertThat(ledger.recorded.get(0).byOutcomeAndSplit())
                .isEqualTo(Map.of(
                        "published", Map.of("valid", 1L, "test", 1L),
                        "unused", Map.of("none", 1L)));
    }

    @Test
    void aConversationAnotherIngestionClaimedFirstIsADuplicateUnderItsSplitAndIsNotSent() throws Exception {
        Candidate ours = Candidates.of("Q1", "A1");
        Candidate theirs = Candidates.of("Q2", "A2");
        ledger.publishedElsewhere.put(theirs.id(), Split.VALID);
        ChunkPublisher.Placed placedTheirs = new ChunkPublisher.Placed(theirs, Split.TRAIN, null);
        Tally tally = new Tally(10);

        List<ChunkPublisher.Placed> lost = publisher(this::acknowledge)
                .publish(List.of(new ChunkPublisher.Placed(ours, Split.TRAIN, null), placedTheirs), List.of(), tally);

        assertThat(lost).containsExactly(placedTheirs);
        assertThat(sent).extracting(Conversation::id).containsExactly(ours.id());
        assertThat(ledger.recorded.get(0).byOutcomeAndSplit())
                .isEqualTo(Map.of(
                        "published", Map.of("train", 1L),
                        "duplicate", Map.of("valid", 1L)));
    }

    @Test
    void aChunkKafkaDidNotAcknowledgeGivesItsClaimsBackUnrecorded() {
        Candidate candidate = Candidates.of("Q", "A");
        ChunkPublisher.Sender failing = (conversations, letters) -> {
            throw new IllegalStateException("Kafka is unavailable");
        };

        assertThatThrownBy(() -> publisher(failing)
                        .publish(
                                List.of(new ChunkPublisher.Placed(candidate, Split.TRAIN, null)),
                                List.of(),
                                new Tally(10)))
                .hasMessage("Kafka is unavailable");
        assertThat(events).containsExactly("claimed 1", "given back");
        assertThat(ledger.recorded).isEmpty();
    }

    private ChunkPublisher publisher(ChunkPublisher.Sender sender) {
        return new ChunkPublisher(ledger, sender, "ds", "upload", "90/10");
    }

    private void acknowledge(List<Conversation> conversations, List<DeadLetter> letters) {
        events.add("sent " + conversations.size() + " conversations, " + letters.size() + " letters");
        sent.addAll(conversations);
        sentLetters.addAll(letters);
    }

    /** Claims in memory: every id is won unless another ingestion published it. */
    private final class Ledger implements ChunkLedger {
        final Map<String, Split> publishedElsewhere = new HashMap<>();
        final List<Seen> claimed = new ArrayList<>();
        final List<Counts> recorded = new ArrayList<>();

        @Override
        public Claim claim(List<Seen> conversations) {
            events.add("claimed " + conversations.size());
            claimed.addAll(conversations);
            return new Claim() {
                private boolean done;

                @Override
                public boolean won(String id) {
                    return !publishedElsewhere.containsKey(id);
                }

                @Override
                public Split publishedSplit(String id) {
                    return publishedElsewhere.get(id);
                }

                @Override
                public void record(String dataset, String source, String splitPolicy, Counts counts) {
                    events.add("recorded " + dataset + " " + source + " " + splitPolicy);
                    recorded.add(counts);
                    done = true;
                }

                @Override
                public void close() {
                    events.add(done ? "closed" : "given back");
                }
            };
        }
    }
}
