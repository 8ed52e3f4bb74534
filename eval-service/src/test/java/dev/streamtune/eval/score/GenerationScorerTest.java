package dev.streamtune.eval.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generation metrics of an evaluation, averaged over its samples. */
class GenerationScorerTest {

    @Test
    void metricsAverageOverSamples() {
        List<GenerationScorer.Sample> samples = List.of(
                new GenerationScorer.Sample("r:a", "p", "You too!", "You too!", "STOP_TOKEN", 4, 4, true, 1.0, 0.0),
                new GenerationScorer.Sample(
                        "r:b",
                        "p",
                        "the cat was on the mat",
                        "the cat sat on the mat",
                        "MAX_NEW_TOKENS",
                        6,
                        8,
                        false,
                        5 / 6.0,
                        0.25));
        Map<String, Double> metrics = GenerationScorer.metrics(samples);
        assertThat(metrics.get("samples")).isEqualTo(2.0);
        assertThat(metrics.get("exact_match")).isEqualTo(0.5);
        assertThat(metrics.get("rouge_l")).isCloseTo((1.0 + 5 / 6.0) / 2, within(1e-12));
        assertThat(metrics.get("token_reduction")).isCloseTo(0.125, within(1e-12));
        assertThat(metrics.get("stopped_by_itself")).isEqualTo(0.5);
        assertThat(metrics.get("generated_tokens_mean")).isEqualTo(5.0);
        assertThat(metrics.get("generated_tokens_max")).isEqualTo(6.0);
        assertThat(metrics.get("reference_tokens_mean")).isEqualTo(6.0);
        assertThat(GenerationScorer.metrics(List.of())).isEmpty();
    }
}
