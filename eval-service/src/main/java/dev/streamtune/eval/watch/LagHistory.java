package dev.streamtune.eval.watch;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How far behind each stage was for a recipe, over time: the records waiting on its input topic for format-service
 * (conversations), tokenize-service (examples) and the recipe's newest training run (batches), one {@link Sample} per
 * sampling, the newest {@code capacity} kept per recipe. A value is null where the stage did not say (not deployed,
 * not answering, no worker for the recipe yet): the page draws a gap there rather than a zero.
 *
 * <p>Held in memory: a restart of eval-service starts a new history. The durable series is Prometheus'
 * {@code stage_lag_records} and {@code trainer_batches_lag}; this one lets the page show the recent past without one.
 */
public final class LagHistory {

    /** One sampling: when, and the lag of each stage (null: unknown). */
    public record Sample(Instant at, Long format, Long tokenize, Long trainer) {}

    private final int capacity;
    private final Map<String, Deque<Sample>> samples = new HashMap<>();

    public LagHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("eval.watch.lag-samples must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** Adds a sample for the recipe, dropping its oldest when the recipe holds {@code capacity}. */
    public synchronized void record(String recipeId, Sample sample) {
        Deque<Sample> history = samples.computeIfAbsent(recipeId, id -> new ArrayDeque<>());
        if (!history.isEmpty() && sample.at().isBefore(history.peekLast().at())) {
            throw new IllegalArgumentException("sample at " + sample.at() + " is older than the last one of " + recipeId
                    + " (" + history.peekLast().at() + ")");
        }
        history.addLast(sample);
        while (history.size() > capacity) {
            history.removeFirst();
        }
    }

    /** The recipe's samples, oldest first (empty when it has none). */
    public synchronized List<Sample> of(String recipeId) {
        Deque<Sample> history = samples.get(recipeId);
        return history == null ? List.of() : new ArrayList<>(history);
    }

    /** Forgets the recipes not in {@code known} (deleted recipes). */
    public synchronized void retain(Collection<String> known) {
        samples.keySet().retainAll(known);
    }

    /**
     * A sample from the services' answers: format's and tokenize's {@code GET /recipes/{id}} (each with a {@code lag}),
     * and trainer-service's {@code GET /runs} (the newest run of the recipe, by {@code createdAt}, with its {@code lag}).
     */
    public static Sample sample(Instant at, String recipeId, JsonNode format, JsonNode tokenize, JsonNode trainerRuns) {
        List<JsonNode> runs = ServiceApis.runsOf(trainerRuns, recipeId);
        return new Sample(at, lag(format), lag(tokenize), lag(runs.isEmpty() ? null : runs.get(0)));
    }

    private static Long lag(JsonNode answer) {
        if (answer == null || answer.has("unavailable")) {
            return null;
        }
        JsonNode lag = answer.path("lag");
        return lag.isIntegralNumber() && lag.asLong() >= 0 ? lag.asLong() : null;
    }
}
