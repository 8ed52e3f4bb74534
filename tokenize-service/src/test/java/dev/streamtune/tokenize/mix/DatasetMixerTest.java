package dev.streamtune.tokenize.mix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.streamtune.events.Split;
import dev.streamtune.tokenize.example.TokenizedExample;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Mixing proportions over 10k examples and over a stream whatever the order of arrival, deterministic up- and
 * downsampling, the bound on what waits, and the accounting. */
class DatasetMixerTest {

    @Test
    void realisedProportionsMatchTheWeightsWithinOnePercentOver10kExamples() {
        // 8,000 ShareGPT-like and 2,000 Alpaca-like examples arriving one dataset after the other, weights 0.7 / 0.3:
        // ShareGPT is downsampled, Alpaca upsampled.
        DatasetMixer mixer = new DatasetMixer(Map.of("sharegpt", 7.0, "alpaca", 3.0), 10_000);
        List<TokenizedExample> out = new ArrayList<>();
        List<DatasetMixer.Mixed> windows = new ArrayList<>();
        for (int i = 0; i < 8_000; i++) {
            collect(mixer.add(example("sharegpt", "s" + i)), out, windows);
        }
        for (int i = 0; i < 2_000; i++) {
            collect(mixer.add(example("alpaca", "a" + i)), out, windows);
        }
        collect(mixer.flush(), out, windows);

        assertThat(out).hasSize(10_000);
        Map<String, Long> realised =
                out.stream().collect(Collectors.groupingBy(TokenizedExample::dataset, Collectors.counting()));
        assertThat(realised.get("sharegpt") / 10_000.0).isCloseTo(0.7, within(0.01));
        assertThat(realised.get("alpaca") / 10_000.0).isCloseTo(0.3, within(0.01));

        DatasetMixer.Mixed window = windows.get(0);
        assertThat(window.kept()).containsEntry("sharegpt", 7_000L).containsEntry("alpaca", 2_000L);
        assertThat(window.dropped()).containsEntry("sharegpt", 1_000L).containsEntry("alpaca", 0L);
        assertThat(window.copies()).containsEntry("alpaca", 1_000L).containsEntry("sharegpt", 0L);
        // in + copies = out + dropped
        long copies =
                window.copies().values().stream().mapToLong(Long::longValue).sum();
        long dropped =
                window.dropped().values().stream().mapToLong(Long::longValue).sum();
        assertThat(10_000 + copies).isEqualTo(out.size() + dropped);
        // Upsampling repeats whole passes first: every Alpaca example at least once, none more than twice.
        Map<String, Long> perConversation = out.stream()
                .filter(e -> e.dataset().equals("alpaca"))
                .collect(Collectors.groupingBy(TokenizedExample::conversationId, Collectors.counting()));
        assertThat(perConversation).hasSize(2_000);
        assertThat(perConversation.values()).allMatch(n -> n >= 1 && n <= 2);
        assertThat(out.stream().map(TokenizedExample::key).distinct().count()).isEqualTo(10_000);
        // Interleaved, not one dataset after the other.
        long alpacaInFirstThousand = out.subList(0, 1_000).stream()
                .filter(e -> e.dataset().equals("alpaca"))
                .count();
        assertThat(alpacaInFirstThousand).isBetween(200L, 400L);
    }

    @Test
    void datasetsArrivingOneAfterTheOtherMixInTheirWeights() {
        // The usual upload: 20,000 of a, a quiet stream, then 20,000 of b, then quiet again; weights 3:1.
        DatasetMixer mixer = new DatasetMixer(Map.of("a", 3.0, "b", 1.0), 10_000);
        List<TokenizedExample> out = new ArrayList<>();
        List<DatasetMixer.Mixed> windows = new ArrayList<>();
        int maxHeld = 0;
        for (int i = 0; i < 20_000; i++) {
            collect(mixer.add(example("a", "a" + i)), out, windows);
            maxHeld = Math.max(maxHeld, mixer.buffered());
        }
        // Quiet after a: b is named but missing, so the window waits for it rather than training a alone.
        assertThat(mixer.mixesOnFlush()).isFalse();
        collect(mixer.flush(), out, windows);
        assertThat(out).isEmpty();
        for (int i = 0; i < 20_000; i++) {
            collect(mixer.add(example("b", "b" + i)), out, windows);
            maxHeld = Math.max(maxHeld, mixer.buffered());
        }
        collect(mixer.flush(), out, windows);

        Map<String, Long> realised = counts(out);
        assertThat((double) realised.get("a") / realised.get("b")).isCloseTo(3.0, within(0.01));
        // The window closed once b had its share of 10,000 (2,500) beside the 20,000 of a; b's later examples,
        // ahead of a's, are held for more of a, and the hold never passed its bound.
        assertThat(windows).hasSize(1);
        assertThat(windows.get(0).kept()).containsEntry("a", 16_875L).containsEntry("b", 2_500L);
        assertThat(mixer.buffered()).isEqualTo(17_500);
        assertThat(maxHeld).isLessThanOrEqualTo(mixer.bound());
        assertAccounted(40_000, windows, mixer, out);
    }

    @Test
    void interleavedDatasetsMixInTheirWeightsWindowByWindow() {
        // a and b alternate (1:1 arriving), weights 3:1: b is downsampled, a upsampled, in every window.
        DatasetMixer mixer = new DatasetMixer(Map.of("a", 3.0, "b", 1.0), 10_000);
        List<TokenizedExample> out = new ArrayList<>();
        List<DatasetMixer.Mixed> windows = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            collect(mixer.add(example("a", "a" + i)), out, windows);
            collect(mixer.add(example("b", "b" + i)), out, windows);
        }
        collect(mixer.flush(), out, windows);

        assertThat(windows).hasSizeGreaterThan(1);
        for (DatasetMixer.Mixed window : windows) {
            Map<String, Long> mixed = counts(window.examples());
            assertThat((double) mixed.get("a") / mixed.get("b")).isCloseTo(3.0, within(0.01));
        }
        assertThat(mixer.buffered()).isZero();
        assertAccounted(40_000, windows, mixer, out);
    }

    @Test
    void aNamedDatasetThatNeverArrivesHoldsTheStreamNoLongerThanTheBound() {
        // b never comes: the window waits up to its bound, then mixes what it has, as a window without b always did.
        DatasetMixer mixer = new DatasetMixer(Map.of("a", 3.0, "b", 1.0), 1_000);
        List<TokenizedExample> out = new ArrayList<>();
        List<DatasetMixer.Mixed> windows = new ArrayList<>();
        int maxHeld = 0;
        for (int i = 0; i < 10_000; i++) {
            collect(mixer.add(example("a", "a" + i)), out, windows);
            maxHeld = Math.max(maxHeld, mixer.buffered());
        }

        assertThat(mixer.bound()).isEqualTo(4_000);
        assertThat(maxHeld).isLessThanOrEqualTo(4_000);
        assertThat(windows)
                .hasSize(2)
                .allSatisfy(window -> assertThat(window.examples()).hasSize(4_000));
        assertThat(mixer.buffered()).isEqualTo(2_000);
        assertAccounted(10_000, windows, mixer, out);
    }

    @Test
    void theSameInputMixesTheSameWayWhateverTheArrivalOrder() {
        List<TokenizedExample> inputs = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            inputs.add(example(i % 3 == 0 ? "a" : "b", "k" + i));
        }
        List<String> forward = keys(mix(inputs));
        List<TokenizedExample> reversed = new ArrayList<>(inputs);
        Collections.reverse(reversed);
        assertThat(keys(mix(reversed))).isEqualTo(forward);
    }

    @Test
    void withoutWeightsExamplesPassThrough() {
        DatasetMixer mixer = new DatasetMixer(Map.of(), 3);
        assertThat(mixer.add(example("x", "1"))).isNull();
        mixer.add(example("y", "2"));
        DatasetMixer.Mixed mixed = mixer.add(example("x", "3"));
        assertThat(keys(mixed)).containsExactly("1", "2", "3");
    }

    private static DatasetMixer.Mixed mix(List<TokenizedExample> inputs) {
        DatasetMixer mixer = new DatasetMixer(Map.of("a", 1.0, "b", 1.0), 1_000);
        inputs.forEach(mixer::add);
        return mixer.flush();
    }

    private static List<String> keys(DatasetMixer.Mixed mixed) {
        return mixed.examples().stream().map(TokenizedExample::key).toList();
    }

    private static void collect(
            DatasetMixer.Mixed mixed, List<TokenizedExample> out, List<DatasetMixer.Mixed> windows) {
        if (mixed != null && !mixed.examples().isEmpty()) {
            out.addAll(mixed.examples());
            windows.add(mixed);
        }
    }

    private static Map<String, Long> counts(List<TokenizedExample> examples) {
        return examples.stream().collect(Collectors.groupingBy(TokenizedExample::dataset, Collectors.counting()));
    }

    /** Every example read is kept, dropped or still held; what comes out is what was kept plus the copies. */
    private static void assertAccounted(
            long read, List<DatasetMixer.Mixed> windows, DatasetMixer mixer, List<TokenizedExample> out) {
        long kept = windows.stream()
                .flatMap(w -> w.kept().values().stream())
                .mapToLong(Long::longValue)
                .sum();
        long dropped = windows.stream()
                .flatMap(w -> w.dropped().values().stream())
                .mapToLong(Long::longValue)
                .sum();
        long copies = windows.stream()
                .flatMap(w -> w.copies().values().stream())
                .mapToLong(Long::longValue)
                .sum();
        assertThat(kept + dropped + mixer.buffered()).isEqualTo(read);
        assertThat(kept + copies).isEqualTo(out.size());
        assertThat(out.stream().map(TokenizedExample::key).distinct().count()).isEqualTo(out.size());
    }

    private static TokenizedExample example(String dataset, String key) {
        return new TokenizedExample(key, key, dataset, Split.TRAIN, new int[] {1, 2}, new int[] {-100, 2}, 1, 1, null);
    }
}
