package dev.streamtune.tokenize.mix;

import dev.streamtune.tokenize.example.TokenizedExample;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Mixes a recipe's datasets in the proportions of its weights (normalised), window by window. A window of the stream
 * is mixed once every dataset the recipe names holds at least its share of {@code window} examples in it (3:1 over
 * 10,000: 7,500 and 2,500): all it holds then is mixed, every dataset getting its share of the window's size. A
 * dataset with more examples than its share keeps a deterministic subset (the examples whose key hashes lowest); one
 * with fewer is upsampled by repeating its examples in the same deterministic order, whole passes first. The mixed
 * window comes out interleaved in a deterministic order, so consecutive batches mix the datasets.
 *
 * <p>Over a stream, a weight is a share of every mixed window, however the datasets arrive: examples of a dataset
 * that came first wait for the others (the usual upload of one dataset after another), and those of a dataset that
 * runs ahead wait for more of the rest. The wait is bounded: a window holds at most {@link #bound()} examples; at
 * the bound it is mixed with what it has, the weights of datasets missing from it shared out among those present.
 * On {@link #flush()} (the stream went quiet) a window is mixed only if every named dataset is in it, even short of
 * its share; a window missing one keeps waiting. Every example read is kept, dropped or still held, and the
 * realised proportions are reported, per window, for the metrics.
 *
 * <p>With no weights, examples pass through unchanged, in arrival order. Not thread-safe: each worker has its own.
 */
public final class DatasetMixer {

    /** A window's result: what to pack, and the accounting of what mixing did. */
    public record Mixed(
            List<TokenizedExample> examples,
            Map<String, Long> kept,
            Map<String, Long> copies,
            Map<String, Long> dropped) {}

    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, Double> proportions;
    /** One digest, reused (a mixer belongs to one worker's thread): looking one up costs more than the hash. */
    private final MessageDigest sha256 = sha256();

    private final int window;
    /** Each named dataset's share of a full window: the window is due once every dataset holds its own. */
    private final Map<String, Long> windowShares;

    private final int bound;
    private final Map<String, List<TokenizedExample>> buffered = new LinkedHashMap<>();
    private final List<TokenizedExample> passThrough = new ArrayList<>();
    private int size;

    /** A mixer whose windows wait for the recipe's datasets up to four windows' worth of examples. */
    public DatasetMixer(Map<String, Double> weights, int window) {
        this(weights, window, 4 * window);
    }

    /**
     * @param weights dataset -> weight (any positive scale); empty for no mixing
     * @param bound   the most examples a window holds while it waits for the datasets it misses
     */
    public DatasetMixer(Map<String, Double> weights, int window, int bound) {
        if (bound < window) {
            throw new IllegalArgumentException(
                    "a mixing window of " + window + " cannot wait within a bound of " + bound);
        }
        double total =
                weights.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> normalised = new TreeMap<>();
        weights.forEach((dataset, weight) -> normalised.put(dataset, weight / total));
        this.proportions = Map.copyOf(normalised);
        this.window = window;
        this.bound = bound;
        this.windowShares = proportions.isEmpty() ? Map.of() : shares(window, proportions.keySet());
    }

    public Map<String, Double> proportions() {
        return proportions;
    }

    public int bound() {
        return bound;
    }

    /** Buffers a training example; returns the mixed window when this one made it due or reached the bound, else null. */
    public Mixed add(TokenizedExample example) {
        if (proportions.isEmpty()) {
            passThrough.add(example);
            size++;
            return size >= window ? mix() : null;
        }
        check(example);
        buffered.computeIfAbsent(example.dataset(), d -> new ArrayList<>()).add(example);
        size++;
        return due() || size >= bound ? mix() : null;
    }

    /** Whether every named dataset holds its share of a full window. */
    private boolean due() {
        for (Map.Entry<String, Long> share : windowShares.entrySet()) {
            List<TokenizedExample> held = buffered.get(share.getKey());
            if ((held == null ? 0 : held.size()) < share.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Refuses an example of a dataset the recipe does not mix, before anything of it is buffered. */
    public void check(TokenizedExample example) {
        if (!proportions.isEmpty() && !proportions.containsKey(example.dataset())) {
            throw new IllegalArgumentException("example " + example.key() + " is from dataset " + example.dataset()
                    + ", which the recipe does not mix (" + proportions.keySet() + ")");
        }
    }

    public int buffered() {
        return size;
    }

    /** Whether {@link #flush()} would mix: something is buffered and no named dataset is missing from it. */
    public boolean mixesOnFlush() {
        return size > 0 && (proportions.isEmpty() || buffered.keySet().containsAll(proportions.keySet()));
    }

    /**
     * The stream went quiet: mixes what is buffered if every named dataset is in it; else returns null and the
     * window waits for the missing ones (up to the bound), rather than giving their shares to the others.
     */
    public Mixed flush() {
        return mixesOnFlush() ? mix() : null;
    }

    /** Mixes whatever is buffered. */
    private Mixed mix() {
        Map<String, Long> kept = new TreeMap<>();
        Map<String, Long> copies = new TreeMap<>();
        Map<String, Long> dropped = new TreeMap<>();
        if (proportions.isEmpty()) {
            List<TokenizedExample> out = List.copyOf(passThrough);
            out.forEach(e -> kept.merge(e.dataset(), 1L, Long::sum));
            passThrough.clear();
            size = 0;
            return new Mixed(out, kept, copies, dropped);
        }
        int total = size;
        Map<String, Long> targets = shares(total, buffered.keySet());
        List<Ordered> mixed = new ArrayList<>();
        for (Map.Entry<String, List<TokenizedExample>> dataset : buffered.entrySet()) {
            List<TokenizedExample> examples = inHashOrder(dataset.getValue());
            long target = targets.getOrDefault(dataset.getKey(), 0L);
            for (long i = 0; i < target; i++) {
                TokenizedExample example = examples.get((int) (i % examples.size()));
                long pass = i / examples.size();
                mixed.add(new Ordered(hash(example.key() + "#" + pass), pass == 0 ? example : copy(example, pass)));
            }
            kept.put(dataset.getKey(), Math.min(target, examples.size()));
            copies.put(dataset.getKey(), Math.max(0, target - examples.size()));
            dropped.put(dataset.getKey(), Math.max(0, examples.size() - target));
        }
        mixed.sort(Comparator.comparing(Ordered::order));
        buffered.clear();
        size = 0;
        return new Mixed(mixed.stream().map(Ordered::example).toList(), kept, copies, dropped);
    }

    /** Each of {@code datasets}' share of {@code total}, by largest remainder over those datasets' weights. */
    private Map<String, Long> shares(int total, Set<String> datasets) {
        double present = datasets.stream().mapToDouble(proportions::get).sum();
        Map<String, Long> shares = new TreeMap<>();
        Map<String, Double> remainders = new TreeMap<>();
        long assigned = 0;
        for (String dataset : datasets) {
            double exact = total * proportions.get(dataset) / present;
            shares.put(dataset, (long) Math.floor(exact));
            remainders.put(dataset, exact - Math.floor(exact));
            assigned += (long) Math.floor(exact);
        }
        List<String> byRemainder = new ArrayList<>(remainders.keySet());
        byRemainder.sort(
                Comparator.comparing((String d) -> remainders.get(d)).reversed().thenComparing(d -> d));
        for (int i = 0; assigned < total; i++, assigned++) {
            shares.merge(byRemainder.get(i % byRemainder.size()), 1L, Long::sum);
        }
        return shares;
    }

    /** The examples ordered by the hash of their keys, each key hashed once (a sort compares each many times). */
    private List<TokenizedExample> inHashOrder(List<TokenizedExample> examples) {
        List<Ordered> byHash = new ArrayList<>(examples.size());
        for (TokenizedExample example : examples) {
            byHash.add(new Ordered(hash(example.key()), example));
        }
        byHash.sort(Comparator.comparing(Ordered::order));
        return byHash.stream().map(Ordered::example).toList();
    }

    private static TokenizedExample copy(TokenizedExample example, long pass) {
        return new TokenizedExample(
                example.key() + "~" + pass,
                example.conversationId(),
                example.dataset(),
                example.split(),
                example.ids(),
                example.labels(),
                example.trainableTokens(),
                example.promptTokens(),
                example.referenceResponse());
    }

    private record Ordered(String order, TokenizedExample example) {}

    private String hash(String text) {
        byte[] digest = sha256.digest(text.getBytes(StandardCharsets.UTF_8));
        return HEX.formatHex(digest, 0, 12);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
