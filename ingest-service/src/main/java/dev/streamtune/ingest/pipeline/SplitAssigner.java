package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.split.SplitPolicy;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Gives each conversation that survived deduplication its split: under ratios a function of its id alone; under
 * size caps the split furthest behind its share of the caps, counting what the dataset already holds.
 */
public interface SplitAssigner {

    /** The conversation's split, or null when the size caps leave no room for it. */
    Split assign(String conversationId);

    /** Takes back a split given to a conversation that another ingestion published first, for the next one. */
    void giveBack(Split split);

    /** Whether no conversation can get a split any more. */
    boolean full();

    /** Why a conversation with no room got no split, for the receipt's unused reasons. */
    String noRoom();

    static SplitAssigner byRatios(SplitPolicy.Ratios ratios) {
        return new ByRatios(ratios);
    }

    static SplitAssigner fillingSizes(SplitPolicy.Sizes sizes, Map<Split, Long> alreadyPublished) {
        return new SizeFiller(sizes, alreadyPublished);
    }

    /** Ratios: every conversation has its split, whatever else arrives. */
    record ByRatios(SplitPolicy.Ratios ratios) implements SplitAssigner {

        @Override
        public Split assign(String conversationId) {
            return ratios.assign(conversationId);
        }

        @Override
        public void giveBack(Split split) {
            // nothing to give back: a split under ratios takes no place from another conversation
        }

        @Override
        public boolean full() {
            return false;
        }

        @Override
        public String noRoom() {
            throw new IllegalStateException("ratios always have room");
        }
    }

    /**
     * Fills size-capped splits together: each conversation goes to the split furthest behind its share of the
     * caps (ties in the order train, valid, test). Filling train first would leave a dataset fed in small
     * uploads without validation or test data until train was full.
     */
    final class SizeFiller implements SplitAssigner {
        private final SplitPolicy.Sizes sizes;
        private final Map<Split, Long> used = new EnumMap<>(Split.class);

        SizeFiller(SplitPolicy.Sizes sizes, Map<Split, Long> alreadyPublished) {
            this.sizes = sizes;
            for (Split split : Split.values()) {
                used.put(split, alreadyPublished.getOrDefault(split, 0L));
            }
        }

        @Override
        public Split assign(String conversationId) {
            long placed = used.values().stream().mapToLong(Long::longValue).sum();
            Split furthestBehind = null;
            for (Split split : Split.values()) {
                if (room(split) > 0
                        && (furthestBehind == null || behind(split, placed + 1) > behind(furthestBehind, placed + 1))) {
                    furthestBehind = split;
                }
            }
            if (furthestBehind != null) {
                used.merge(furthestBehind, 1L, Long::sum);
            }
            return furthestBehind;
        }

        /**
         * How far the split is behind its share once {@code placed} conversations are placed, scaled by the total
         * of the caps to stay in integers: share = placed * cap / total. Giving each conversation to the split
         * furthest behind keeps every split within one conversation of its share at every count.
         */
        private long behind(Split split, long placed) {
            return placed * sizes.capacity(split) - used.get(split) * sizes.total();
        }

        private long room(Split split) {
            return sizes.capacity(split) - used.get(split);
        }

        @Override
        public void giveBack(Split split) {
            used.merge(split, -1L, Long::sum);
        }

        @Override
        public boolean full() {
            return Arrays.stream(Split.values()).allMatch(split -> room(split) <= 0);
        }

        @Override
        public String noRoom() {
            return "beyond the split sizes train " + sizes.train() + " / valid " + sizes.valid() + " / test "
                    + sizes.test();
        }
    }
}
