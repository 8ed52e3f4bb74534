package dev.streamtune.eval.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LagHistoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-11-28T00:00:00Z");

    @Test
    void keepsTheNewestSamplesOfEachRecipeInTimeOrder() {
        LagHistory history = new LagHistory(3);
        for (int i = 0; i < 5; i++) {
            history.record("a", new LagHistory.Sample(T0.plusSeconds(i), (long) i, null, 0L));
        }
        history.record("b", new LagHistory.Sample(T0, 7L, 7L, 7L));

        assertThat(history.of("a")).extracting(LagHistory.Sample::format).containsExactly(2L, 3L, 4L);
        assertThat(history.of("b")).hasSize(1);
        assertThat(history.of("unknown")).isEmpty();
        assertThatThrownBy(() -> history.record("a", new LagHistory.Sample(T0, 0L, 0L, 0L)))
                .hasMessageContaining("older than the last one of a");
    }

    @Test
    void forgetsDeletedRecipes() {
        LagHistory history = new LagHistory(10);
        history.record("kept", new LagHistory.Sample(T0, 1L, 1L, 1L));
        history.record("deleted", new LagHistory.Sample(T0, 1L, 1L, 1L));
        history.retain(List.of("kept"));
        assertThat(history.of("deleted")).isEmpty();
        assertThat(history.of("kept")).hasSize(1);
    }

    @Test
    void readsEachStagesLagAndTheNewestRunOfTheRecipe() throws Exception {
        JsonNode format = JSON.readTree("{\"formatted\": 10, \"lag\": 4}");
        JsonNode tokenize = JSON.readTree("{\"unavailable\": \"tokenize-service at http://x: ConnectException\"}");
        JsonNode runs = JSON.readTree("""
                [{"recipeId": "r", "createdAt": "2026-11-27T10:00:00Z", "lag": 9},
                 {"recipeId": "r", "createdAt": "2026-11-27T11:00:00Z", "lag": 2},
                 {"recipeId": "other", "createdAt": "2026-11-27T12:00:00Z", "lag": 5}]""");

        LagHistory.Sample sample = LagHistory.sample(T0, "r", format, tokenize, runs);

        assertThat(sample.format()).isEqualTo(4L);
        assertThat(sample.tokenize())
                .as("an unavailable service is a gap, not a zero")
                .isNull();
        assertThat(sample.trainer()).as("the newest run of the recipe").isEqualTo(2L);
        assertThat(LagHistory.sample(T0, "r", JSON.readTree("{\"lag\": -1}"), null, JSON.readTree("[]")))
                .as("a lag not known yet (-1), no answer, no run")
                .isEqualTo(new LagHistory.Sample(T0, null, null, null));
    }
}
