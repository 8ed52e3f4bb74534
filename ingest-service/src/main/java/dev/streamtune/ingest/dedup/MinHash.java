package dev.streamtune.ingest.dedup;

import dev.streamtune.events.Message;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * MinHash signatures over word 3-gram shingles, with LSH banding, for near-duplicate detection. Two conversations
 * whose texts share a Jaccard similarity J agree on each signature value with probability J; with b bands of r
 * rows they share at least one band key with probability 1 - (1 - J^r)^b, so candidates are found by band key
 * and then confirmed by the signature estimate.
 *
 * <p>Hand-written (about a page) because the JVM libraries for it are either unmaintained or bring a dependency
 * tree larger than the feature; the hash family is a seeded splitmix64 finalizer over 64-bit FNV-1a shingle hashes.
 */
public final class MinHash {

    public static final int PERMUTATIONS = 128;
    private static final int SHINGLE_WORDS = 3;
    private static final long[] SEEDS = new long[PERMUTATIONS];

    static {
        long state = 0x5DEECE66DL;
        for (int i = 0; i < PERMUTATIONS; i++) {
            state += 0x9E3779B97F4A7C15L;
            SEEDS[i] = mix(state);
        }
    }

    private final int bands;
    private final int rows;

    public MinHash(int bands) {
        if (bands <= 0 || PERMUTATIONS % bands != 0) {
            throw new IllegalArgumentException("MinHash bands must divide " + PERMUTATIONS + ", got " + bands);
        }
        this.bands = bands;
        this.rows = PERMUTATIONS / bands;
    }

    /** A signature and its band keys. */
    public record Signature(int[] values, long[] bandKeys) {

        /** The estimated Jaccard similarity: the fraction of signature values that agree. */
        public double similarity(Signature other) {
            int equal = 0;
            for (int i = 0; i < values.length; i++) {
                if (values[i] == other.values[i]) {
                    equal++;
                }
            }
            return equal / (double) values.length;
        }

        public boolean sharesBand(Signature other) {
            for (int i = 0; i < bandKeys.length; i++) {
                if (bandKeys[i] == other.bandKeys[i]) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Signature s && Arrays.equals(values, s.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }

    public Signature sign(List<Message> messages) {
        StringBuilder text = new StringBuilder();
        for (Message message : messages) {
            text.append(message.content()).append('\n');
        }
        String[] words = text.toString().toLowerCase(Locale.ROOT).trim().split("\\s+");
        int[] minimum = new int[PERMUTATIONS];
        Arrays.fill(minimum, Integer.MAX_VALUE);
        int shingles = Math.max(1, words.length - SHINGLE_WORDS + 1);
        for (int start = 0; start < shingles; start++) {
            long shingle = fnv1a(words, start, Math.min(words.length, start + SHINGLE_WORDS));
            for (int i = 0; i < PERMUTATIONS; i++) {
                int value = (int) (mix(shingle ^ SEEDS[i]) >>> 33);
                if (value < minimum[i]) {
                    minimum[i] = value;
                }
            }
        }
        return new Signature(minimum, bandKeys(minimum));
    }

    /** Rebuilds a stored signature's band keys (they are a function of the values). */
    public Signature fromValues(int[] values) {
        return new Signature(values, bandKeys(values));
    }

    private long[] bandKeys(int[] values) {
        long[] keys = new long[bands];
        for (int band = 0; band < bands; band++) {
            long key = mix(band + 1L);
            for (int row = 0; row < rows; row++) {
                key = mix(key ^ values[band * rows + row]);
            }
            // The band index is mixed in, so equal rows in different bands never collide.
            keys[band] = key;
        }
        return keys;
    }

    private static long fnv1a(String[] words, int from, int to) {
        long hash = 0xcbf29ce484222325L;
        for (int w = from; w < to; w++) {
            String word = words[w];
            for (int i = 0; i < word.length(); i++) {
                hash ^= word.charAt(i);
                hash *= 0x100000001b3L;
            }
            hash ^= ' ';
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** The splitmix64 finalizer: a fast bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
