package dev.streamtune.tokenize.mix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.streamtune.events.Split;
import dev.streamtune.tokenize.example.TokenizedExample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Mixing proportions over 10k examples, deterministic up- and downsampling, and the accounting. */
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
        Map<String, Long> realised = out.stream().collect(Collectors.groupingBy(TokenizedExample::dataset, Collectors.counting()));
        assertThat(realised.get("sharegpt") / 10_000.0).isCloseTo(0.7, within(0.01));
        assertThat(realised.get("alpaca") / 10_000.0).isCloseTo(0.3, within(0.01));

        DatasetMixer.Mixed window = windows.get(0);
        assertThat(window.kept()).containsEntry("sharegpt", 7_000L).containsEntry("alpaca", 2_000L);
        assertThat(window.dropped()).containsEntry("sharegpt", 1_000L).containsEntry("alpaca", 0L);
        assertThat(window.copies()).containsEntry("alpaca", 1_000L).containsEntry("sharegpt", 0L);
        // in + copies = out + dropped
        long copies = window.copies().values().stream().mapToLong(Long::longValue).sum();
        long dropped = window.dropped().values().stream().mapToLong(Long::longValue).sum();
        assertThat(10_000 + copies).isEqualTo(out.size() + dropped);
        // Upsampling repeats whole passes first: every Alpaca example at least once, none more than twice.
        Map<String, Long> perConversation = out.stream().filter(e -> e.dataset().equals("alpaca"))
                .collect(Collectors.groupingBy(TokenizedExample::conversationId, Collectors.counting()));
        assertThat(perConversation).hasSize(2_000);
        assertThat(perConversation.values()).allMatch(n -> n >= 1 && n <= 2);
        assertThat(out.stream().map(TokenizedExample::key).distinct().count()).isEqualTo(10_000);
        // Interleaved, not one dataset after the other.
        long alpacaInFirstThousand = out.subList(0, 1_000).stream().filter(e -> e.dataset().equals("alpaca")).count();
        assertThat(alpacaInFirstThousand).isBetween(200L, 400L);
    }

    @Test
    void theSameInputMixesTheSameWayWhateverTheArrivalOrder() {
        List<TokenizedExample> inputs = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            inputs.add(example(i % 3 == 0 ? "a" : "b", "k" + i));
        }
        List<String> forward = keys(mix(inputs));
        List<TokenizedExample> reversed = new ArrayList<>(inputs);
        java.util.Collections.reverse(reversed);
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

    private static void collect(DatasetMixer.Mixed mixed, List<TokenizedExample> out, List<DatasetMixer.Mixed> windows) {
        if (mixed != null && !mixed.examples().isEmpty()) {
            out.addAll(mixed.examples());
            windows.add(mixed);
        }
    }

    private static TokenizedExample example(String dataset, String key) {
        return new TokenizedExample(key, key, dataset, Split.TRAIN, new int[] {1, 2}, new int[] {-100, 2}, 1, 1, null);
    }
}
