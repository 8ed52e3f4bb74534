package dev.streamtune.ingest.split;

import dev.streamtune.events.Split;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * How a dataset's conversations are divided into train / valid / test. A split belongs to the dataset: the first
 * ingestion into a dataset fixes it, and every later one (any door) follows it (see {@code DatasetSplits}).
 *
 * <p>Written as {@code 90/10} or {@code 80/10/10} (percentages or fractions: {@code 0.9/0.1}), or
 * {@code sizes:2000/200/200} for fixed counts as in the JoLA recipes; {@code train} puts everything in train.
 */
public sealed interface SplitPolicy {

    long seed();

    /** The position of a conversation in the seeded shuffle of its dataset: uniform in [0, 1). */
    static double rank(long seed, String conversationId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((seed + ":" + conversationId).getBytes(StandardCharsets.UTF_8));
            long bits = 0;
            for (int i = 0; i < 7; i++) { // 56 bits: exactly representable in a double
                bits = (bits << 8) | (digest[i] & 0xFF);
            }
            return bits / (double) (1L << 56);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Each conversation falls into train, valid or test with these probabilities, as a function of its id and the
     * seed alone: the same data and seed always give the same split, whatever the arrival order.
     */
    record Ratios(double train, double valid, double test, long seed) implements SplitPolicy {
        public Ratios {
            if (train < 0 || valid < 0 || test < 0 || Math.abs(train + valid + test - 1.0) > 1e-9) {
                throw new IllegalArgumentException(
                        "split ratios must be non-negative and add up to 1, got " + train + "/" + valid + "/" + test);
            }
        }

        public Split assign(String conversationId) {
            double u = rank(seed, conversationId);
            if (u < train) {
                return Split.TRAIN;
            }
            return u < train + valid ? Split.VALID : Split.TEST;
        }
    }

    /**
     * At most this many conversations per split, filled together as data arrives: each new conversation goes to
     * the split furthest behind its share of what is placed so far, so after any upload, however small, every
     * split holds its share of the caps to within one conversation. Within one ingestion conversations are placed in the seeded shuffle
     * order; once every split is full, new conversations are counted as unused.
     */
    record Sizes(int train, int valid, int test, long seed) implements SplitPolicy {
        public Sizes {
            if (train < 0 || valid < 0 || test < 0) {
                throw new IllegalArgumentException(
                        "split sizes must be non-negative, got " + train + "/" + valid + "/" + test);
            }
        }

        /** The caps together: the most conversations the dataset's splits hold. */
        public long total() {
            return (long) train + valid + test;
        }

        public int capacity(Split split) {
            return switch (split) {
                case TRAIN -> train;
                case VALID -> valid;
                case TEST -> test;
            };
        }
    }

    static SplitPolicy parse(String text, long seed) {
        String spec = text.trim().toLowerCase(Locale.ROOT);
        if (spec.equals("train")) {
            return new Ratios(1, 0, 0, seed);
        }
        boolean sizes = spec.startsWith("sizes:");
        String[] parts = (sizes ? spec.substring("sizes:".length()) : spec).split("/");
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("split '" + text + "' must be train/valid[/test]: 90/10, 80/10/10,"
                    + " 0.9/0.1, sizes:2000/200/200 or train");
        }
        try {
            if (sizes) {
                return new Sizes(
                        Integer.parseInt(parts[0].trim()),
                        Integer.parseInt(parts[1].trim()),
                        parts.length == 3 ? Integer.parseInt(parts[2].trim()) : 0,
                        seed);
            }
            double[] values = new double[3];
            double sum = 0;
            for (int i = 0; i < parts.length; i++) {
                values[i] = Double.parseDouble(parts[i].trim());
                sum += values[i];
            }
            double scale = Math.abs(sum - 100) < 1e-6 ? 100 : 1;
            return new Ratios(values[0] / scale, values[1] / scale, values[2] / scale, seed);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("split '" + text + "': '" + e.getMessage() + "' is not a number");
        }
    }

    /** The canonical text of this policy without its seed, which {@link #parse} reads back to an equal policy. */
    default String spec() {
        if (this instanceof Sizes s) {
            return "sizes:" + s.train() + "/" + s.valid() + "/" + s.test();
        }
        Ratios r = (Ratios) this;
        return r.train() + "/" + r.valid() + "/" + r.test();
    }

    /** The canonical text of this policy, for receipts and the registry. */
    default String describe() {
        return spec() + " seed " + seed();
    }
}
