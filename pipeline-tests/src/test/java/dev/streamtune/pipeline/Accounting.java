package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * What every stage must account for once a stream has gone through the pipeline, whatever happened on the way:
 * every conversation published once (a record read twice counted as a duplicate), formatted, and each window of it
 * trained in exactly one batch or held out for evaluation.
 */
final class Accounting {

    static final Duration PATIENCE = Duration.ofMinutes(5);

    private Accounting() {}

    static void await(String what, Callable<Boolean> condition) {
        Awaitility.await()
                .alias(what)
                .atMost(PATIENCE)
                .pollInterval(Duration.ofSeconds(1))
                .until(condition);
    }

    static void assertNothingLostNothingTwice(Pipeline pipeline, Recipe recipe, String dataset, int conversations)
            throws Exception {
        // ingest: every conversation published exactly once, whatever was read twice counted as a duplicate.
        await("every conversation on the topic", () -> distinctIds(pipeline.conversations(dataset)) == conversations);
        List<Conversation> published = pipeline.conversations(dataset);
        JsonNode totals = registryTotals(pipeline, dataset);
        assertThat(totals.path("published").asLong()).isEqualTo(conversations);
        assertThat(totals.path("rejected").asLong()).isZero();
        assertThat(totals.path("records").asLong())
                .isEqualTo(totals.path("published").asLong()
                        + totals.path("duplicates").asLong()
                        + totals.path("unused").asLong())
                .isGreaterThanOrEqualTo(conversations);

        // format: an example for every conversation.
        Set<String> expectedExamples =
                published.stream().map(c -> recipe.id() + ":" + c.id()).collect(Collectors.toSet());
        await(
                "an example for every conversation",
                () -> keys(pipeline.examples(recipe.id()), FormattedExample::key)
                        .containsAll(expectedExamples));
        Map<String, FormattedExample> examples = pipeline.examples(recipe.id()).stream()
                .collect(Collectors.toMap(FormattedExample::key, e -> e, (a, b) -> a));
        assertThat(examples.keySet()).isEqualTo(expectedExamples);

        // tokenize: every window of every training example in exactly one batch; every evaluation example out.
        ExampleTokenizer tokenizer = new ExampleTokenizer(TiktokenTokenizer.gpt2WithChatMl());
        Set<String> trainKeys = new HashSet<>();
        Set<String> evalKeys = new HashSet<>();
        for (FormattedExample example : examples.values()) {
            Truncation.Outcome outcome = Truncation.SPLIT.apply(tokenizer.tokenize(example), Pipeline.MAX_SEQ_LENGTH);
            assertThat(outcome).as(example.key()).isInstanceOf(Truncation.Kept.class);
            for (TokenizedExample piece : ((Truncation.Kept) outcome).examples()) {
                (example.split() == Split.TRAIN ? trainKeys : evalKeys).add(piece.key());
            }
        }
        assertThat(trainKeys).as("some examples need more than one window").anyMatch(key -> key.endsWith("#1"));
        await(
                "every training window in a batch",
                () -> batchedKeys(pipeline.batches(recipe.id())).containsAll(trainKeys));
        await(
                "every evaluation example out",
                () -> keys(pipeline.evalExamples(recipe.id()), EvalExample::key).containsAll(evalKeys));
        List<TrainBatch> batches = pipeline.batches(recipe.id());
        List<String> batched = batchedKeys(batches);
        assertThat(batched)
                .as(() -> "example keys in batches; " + batchesHoldingRepeats(batches) + "\n" + pipeline.logTails(40))
                .doesNotHaveDuplicates();
        assertThat(new HashSet<>(batched)).isEqualTo(trainKeys);
        assertThat(batches).extracting(TrainBatch::sequenceNumber).doesNotHaveDuplicates();
    }

    /** For a failure's message: the batches holding each repeated key (a few), where they came from and when. */
    private static String batchesHoldingRepeats(List<TrainBatch> batches) {
        Map<String, List<TrainBatch>> holders = new LinkedHashMap<>();
        batches.forEach(batch -> batch.exampleKeys()
                .forEach(key ->
                        holders.computeIfAbsent(key, k -> new ArrayList<>()).add(batch)));
        return holders.entrySet().stream()
                .filter(entry -> entry.getValue().size() > 1)
                .limit(10)
                .map(entry -> entry.getKey() + " in batches "
                        + entry.getValue().stream()
                                .map(batch -> "#" + batch.sequenceNumber() + " (sources " + batch.sourceOffsets()
                                        + ", made " + batch.createdAt() + ")")
                                .toList())
                .collect(Collectors.joining("\n", "repeated keys:\n", ""));
    }

    private static long distinctIds(List<Conversation> conversations) {
        return conversations.stream().map(Conversation::id).distinct().count();
    }

    private static <T> Set<String> keys(List<T> records, Function<T, String> key) {
        return records.stream().map(key).collect(Collectors.toSet());
    }

    private static List<String> batchedKeys(List<TrainBatch> batches) {
        List<String> keys = new ArrayList<>();
        batches.forEach(batch -> keys.addAll(batch.exampleKeys()));
        return keys;
    }

    private static JsonNode registryTotals(Pipeline pipeline, String dataset) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.ingest.uri("/datasets/" + dataset))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return EventJson.mapper().readTree(response.body()).path("totals");
    }
}
