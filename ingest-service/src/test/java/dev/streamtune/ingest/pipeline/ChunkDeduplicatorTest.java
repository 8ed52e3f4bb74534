package dev.streamtune.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.registry.PublishedConversations;
import dev.streamtune.ingest.split.SplitPolicy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkDeduplicatorTest {

    private static final SplitPolicy.Ratios RATIOS = new SplitPolicy.Ratios(0.5, 0.5, 0, 42);
    private static final String SCENE = "The quick brown fox jumps over the lazy dog while the farmer watches from the"
            + " old wooden gate and the sun sets slowly behind the distant hills of the quiet valley";
    private static final String STORY = "Once upon a time a small lighthouse keeper counted the ships that passed his"
            + " rocky island every night and wrote their names into a thick blue book that nobody ever read";

    private final MinHash minHash = new MinHash(16);
    private final Published published = new Published();

    @Test
    void copiesOfPublishedConversationsAreDuplicatesUnderTheSplitTheyWerePublishedIn() throws Exception {
        Candidate old = Candidates.of("Asked before", "Answered before");
        Candidate fresh = Candidates.of("New question", "New answer");
        Split storedSplit = RATIOS.assign(old.id()) == Split.TRAIN ? Split.TEST : Split.TRAIN; // not what ratios say
        published.splits.put(old.id(), storedSplit);

        ChunkDeduplicator.Deduplicated result =
                new ChunkDeduplicator(published, RATIOS, minHash, null).deduplicate(List.of(old, fresh));

        assertThat(result.survivors())
                .extracting(ChunkDeduplicator.Survivor::candidate)
                .containsExactly(fresh);
        assertThat(result.survivors())
                .extracting(ChunkDeduplicator.Survivor::signature)
                .containsOnlyNulls();
        assertThat(result.duplicates()).containsExactly(new ChunkDeduplicator.Duplicate(old, storedSplit));
    }

    @Test
    void aRepeatWithinTheChunkCountsUnderItsOriginalsSplitWhenRatiosKnowIt() throws Exception {
        Candidate first = Candidates.of("Same", "Conversation");
        Candidate again = Candidates.of("Same", "Conversation");

        ChunkDeduplicator.Deduplicated underRatios =
                new ChunkDeduplicator(published, RATIOS, minHash, null).deduplicate(List.of(first, again));
        ChunkDeduplicator.Deduplicated underSizes = new ChunkDeduplicator(
                        published, new SplitPolicy.Sizes(10, 0, 0, 42), minHash, null)
                .deduplicate(List.of(first, again));

        assertThat(underRatios.survivors())
                .extracting(ChunkDeduplicator.Survivor::candidate)
                .containsExactly(first);
        assertThat(underRatios.duplicates())
                .containsExactly(new ChunkDeduplicator.Duplicate(again, RATIOS.assign(first.id())));
        // Under size caps the original's split is decided only when the chunk is placed.
        assertThat(underSizes.duplicates()).containsExactly(new ChunkDeduplicator.Duplicate(again, null));
    }

    @Test
    void nearCopiesAreDuplicatesOnlyWhenAThresholdIsSet() throws Exception {
        Candidate stored = Candidates.of("Describe the scene.", SCENE);
        MinHash.Signature storedSignature = minHash.sign(stored.prototype().messages());
        published.signatures.add(
                new PublishedConversations.StoredSignature(stored.id(), Split.VALID, storedSignature.values()));
        Candidate nearStored =
                Candidates.of("Describe the scene.", SCENE.replace("old wooden gate", "old wooden fence"));
        Candidate other = Candidates.of("Tell me a story.", STORY);
        Candidate nearOther = Candidates.of("Tell me a story.", STORY.replace("ever read", "ever opened"));

        ChunkDeduplicator.Deduplicated near = new ChunkDeduplicator(published, RATIOS, minHash, 0.8)
                .deduplicate(List.of(nearStored, other, nearOther));
        ChunkDeduplicator.Deduplicated exact = new ChunkDeduplicator(published, RATIOS, minHash, null)
                .deduplicate(List.of(nearStored, other, nearOther));

        assertThat(near.survivors())
                .extracting(ChunkDeduplicator.Survivor::candidate)
                .containsExactly(other);
        assertThat(near.survivors().get(0).signature())
                .isEqualTo(minHash.sign(other.prototype().messages()));
        assertThat(near.duplicates())
                .containsExactly(
                        new ChunkDeduplicator.Duplicate(nearStored, Split.VALID),
                        new ChunkDeduplicator.Duplicate(nearOther, null));
        assertThat(exact.survivors())
                .extracting(ChunkDeduplicator.Survivor::candidate)
                .containsExactly(nearStored, other, nearOther);
        assertThat(exact.duplicates()).isEmpty();
    }

    /** The ledger's lookups, in memory. */
    private static final class Published implements PublishedConversations {
        final Map<String, Split> splits = new HashMap<>();
        final List<StoredSignature> signatures = new ArrayList<>();

        @Override
        public Map<String, Split> published(Collection<String> ids) {
            Map<String, Split> found = new HashMap<>();
            ids.stream().filter(splits::containsKey).forEach(id -> found.put(id, splits.get(id)));
            return found;
        }

        @Override
        public List<StoredSignature> sharingBands(Collection<Long> bandKeys) {
            return signatures.stream()
                    .filter(s -> {
                        for (long band :
                                new MinHash(16).fromValues(s.signature()).bandKeys()) {
                            if (bandKeys.contains(band)) {
                                return true;
                            }
                        }
                        return false;
                    })
                    .toList();
        }
    }
}
