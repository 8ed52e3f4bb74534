package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.registry.PublishedConversations;
import dev.streamtune.ingest.split.SplitPolicy;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the duplicates of a chunk: exact ones by content id, against the chunk itself and everything published
 * before into any dataset; near ones by MinHash when a threshold is set. Each duplicate is reported with the split
 * of its original, under which it is counted.
 */
public final class ChunkDeduplicator {

    /** A conversation with no earlier copy, with its MinHash signature when near duplicates are looked for. */
    public record Survivor(Candidate candidate, MinHash.Signature signature) {}

    /** A copy of an earlier conversation; {@code original} is null when that split is not known yet. */
    public record Duplicate(Candidate candidate, Split original) {}

    public record Deduplicated(List<Survivor> survivors, List<Duplicate> duplicates) {}

    private final PublishedConversations published;
    private final SplitPolicy split;
    private final MinHash minHash;
    private final Double nearDuplicateThreshold;

    /**
     * @param nearDuplicateThreshold Jaccard similarity from which a conversation is a near duplicate; null looks
     *                               for exact duplicates only
     */
    public ChunkDeduplicator(
            PublishedConversations published, SplitPolicy split, MinHash minHash, Double nearDuplicateThreshold) {
        this.published = published;
        this.split = split;
        this.minHash = minHash;
        this.nearDuplicateThreshold = nearDuplicateThreshold;
    }

    public Deduplicated deduplicate(List<Candidate> candidates) throws SQLException {
        Map<String, Split> before =
                published.published(candidates.stream().map(Candidate::id).toList());
        Set<String> inChunk = new HashSet<>();
        List<Candidate> unique = new ArrayList<>();
        List<Duplicate> duplicates = new ArrayList<>();
        for (Candidate candidate : candidates) {
            if (before.containsKey(candidate.id()) || !inChunk.add(candidate.id())) {
                // Counted under the original's split: stored for a published one, computed for one in this chunk.
                Split original = before.get(candidate.id());
                if (original == null && split instanceof SplitPolicy.Ratios ratios) {
                    original = ratios.assign(candidate.id());
                }
                duplicates.add(new Duplicate(candidate, original));
            } else {
                unique.add(candidate);
            }
        }
        if (nearDuplicateThreshold == null) {
            return new Deduplicated(
                    unique.stream().map(c -> new Survivor(c, null)).toList(), duplicates);
        }
        return withoutNearDuplicates(unique, duplicates);
    }

    private Deduplicated withoutNearDuplicates(List<Candidate> unique, List<Duplicate> duplicates) throws SQLException {
        List<Survivor> signed = new ArrayList<>(unique.size());
        Set<Long> bands = new HashSet<>();
        for (Candidate candidate : unique) {
            MinHash.Signature signature = minHash.sign(candidate.prototype().messages());
            signed.add(new Survivor(candidate, signature));
            for (long band : signature.bandKeys()) {
                bands.add(band);
            }
        }
        List<PublishedConversations.StoredSignature> stored = published.sharingBands(bands);
        List<Survivor> survivors = new ArrayList<>();
        for (Survivor candidate : signed) {
            MinHash.Signature signature = candidate.signature();
            Split original = null;
            boolean duplicate = false;
            for (PublishedConversations.StoredSignature other : stored) {
                MinHash.Signature theirs = minHash.fromValues(other.signature());
                if (signature.sharesBand(theirs) && signature.similarity(theirs) >= nearDuplicateThreshold) {
                    duplicate = true;
                    original = other.split();
                    break;
                }
            }
            for (int i = 0; !duplicate && i < survivors.size(); i++) {
                MinHash.Signature earlier = survivors.get(i).signature();
                duplicate = signature.sharesBand(earlier) && signature.similarity(earlier) >= nearDuplicateThreshold;
            }
            if (duplicate) {
                duplicates.add(new Duplicate(candidate.candidate(), original));
            } else {
                survivors.add(candidate);
            }
        }
        return new Deduplicated(survivors, duplicates);
    }
}
