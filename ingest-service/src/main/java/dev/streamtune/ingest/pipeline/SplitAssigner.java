package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.Split;
import dev.streamtune.ingest.split.SplitPolicy;
import java.util.EnumMap;
import java.util.Map;

/**
 * Gives each conversation that survived deduplication its split: under ratios a function of its id alone; under
 * size caps the next free place, train first, then valid, then test, counting what the dataset already holds.
 */
interface SplitAssigner {

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

    /** Fills size-capped splits in the order asked: train first, then valid, then test, counting what was there before. */
    final class SizeFiller implements SplitAssigner {
        private final SplitPolicy.Sizes sizes;
        private final Map<Split, Long> remaining = new EnumMap<>(Split.class);

        SizeFiller(SplitPolicy.Sizes sizes, Map<Split, Long> alreadyPublished) {
            this.sizes = sizes;
            for (Split split : Split.values()) {
                remaining.put(split, Math.max(0, sizes.capacity(split) - alreadyPublished.getOrDefault(split, 0L)));
            }
        }

        @Override
        public Split assign(String conversationId) {
            for (Split split : Split.values()) {
                if (remaining.get(split) > 0) {
                    remaining.merge(split, -1L, Long::sum);
                    return split;
                }
            }
            return null;
        }

        @Override
        public void giveBack(Split split) {
            remaining.merge(split, 1L, Long::sum);
        }

        @Override
        public boolean full() {
            return remaining.values().stream().allMatch(n -> n == 0);
        }

        @Override
        public String noRoom() {
            return "beyond the split sizes train " + sizes.train() + " / valid " + sizes.valid() + " / test " + sizes.test();
        }
    }
}
