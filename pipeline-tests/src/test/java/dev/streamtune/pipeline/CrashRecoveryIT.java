package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;


import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.Awaitility;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.EvalExample;
import dev.streamtune.events.FormattedExample;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.EventJson;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.run.RecipePublisher;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.tokenize.example.ExampleTokenizer;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of ingest-service, format-service and tokenize-service in turn, each while conversations stream through
 * {@code conversations-raw}, each started again: every conversation is published once, formatted, and trained or
 * held out for evaluation; no example key (split windows included) is in two batches.
 */
class CrashRecoveryIT {

    private static final int PHASE = 6_000;
    private static final int CONVERSATIONS = 4 * PHASE;
    private static final Duration PATIENCE = Duration.ofMinutes(5);

    @Test
    void killingEachServiceMidStreamLosesNothingAndBatchesNothingTwice() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "crash-" + run;
        Recipe recipe = Pipeline.recipe("crash-" + run, dataset);
        try (Pipeline pipeline = Pipeline.start(Infrastructure.kafkaBootstrapServers(), Infrastructure.database(),
                "crash-" + run)) {
            RecipePublisher.publish(pipeline.kafka, recipe);

            pipeline.produce(run, dataset, 0, PHASE);
            crashMidStream(pipeline, pipeline.ingest, Topics.CONVERSATIONS, PHASE / 4, run, dataset, 1);
            crashMidStream(pipeline, pipeline.format, Topics.EXAMPLES, PHASE + PHASE / 2, run, dataset, 2);
            crashMidStream(pipeline, pipeline.tokenize, Topics.BATCHES, 100, run, dataset, 3);

            // ingest: every conversation published exactly once, whatever was read twice counted as a duplicate.
            await("every conversation on the topic", () -> distinctIds(pipeline.conversations(dataset)) == CONVERSATIONS);
            List<Conversation> conversations = pipeline.conversations(dataset);
            JsonNode totals = registryTotals(pipeline, dataset);
            assertThat(totals.path("published").asLong()).isEqualTo(CONVERSATIONS);
            assertThat(totals.path("rejected").asLong()).isZero();
            assertThat(totals.path("records").asLong()).isEqualTo(totals.path("published").asLong()
                    + totals.path("duplicates").asLong() + totals.path("unused").asLong())
                    .isGreaterThanOrEqualTo(CONVERSATIONS);

            // format: an example for every conversation.
            Set<String> expectedExamples = conversations.stream().map(c -> recipe.id() + ":" + c.id())
                    .collect(Collectors.toSet());
            await("an example for every conversation",
                    () -> keys(pipeline.examples(recipe.id()), FormattedExample::key).containsAll(expectedExamples));
            Map<String, FormattedExample> examples = pipeline.examples(recipe.id()).stream()
                    .collect(Collectors.toMap(FormattedExample::key, e -> e, (a, b) -> a));
            assertThat(examples.keySet()).isEqualTo(expectedExamples);

            // tokenize: every window of every training example in exactly one batch; every evaluation example out.
            ExampleTokenizer tokenizer = new ExampleTokenizer(TiktokenTokenizer.gpt2WithChatMl());
            Set<String> trainKeys = new HashSet<>();
            Set<String> evalKeys = new HashSet<>();
            for (FormattedExample example : examples.values()) {
                Truncation.Outcome outcome = Truncation.SPLIT.apply(tokenizer.tokenize(example), 64);
                assertThat(outcome).as(example.key()).isInstanceOf(Truncation.Kept.class);
                for (TokenizedExample piece : ((Truncation.Kept) outcome).examples()) {
                    (example.split() == Split.TRAIN ? trainKeys : evalKeys).add(piece.key());
                }
            }
            assertThat(trainKeys).as("some examples need more than one window").anyMatch(key -> key.endsWith("#1"));
            await("every training window in a batch",
                    () -> batchedKeys(pipeline.batches(recipe.id())).containsAll(trainKeys));
            await("every evaluation example out",
                    () -> keys(pipeline.evalExamples(recipe.id()), EvalExample::key).containsAll(evalKeys));
            List<String> batched = batchedKeys(pipeline.batches(recipe.id()));
            assertThat(batched).doesNotHaveDuplicates();
            assertThat(new HashSet<>(batched)).isEqualTo(trainKeys);
            List<TrainBatch> batches = pipeline.batches(recipe.id());
            assertThat(batches).extracting(TrainBatch::sequenceNumber).doesNotHaveDuplicates();
        }
    }

    /**
     * Waits until {@code service} has produced at least {@code progress} records on {@code topic}, kills it, streams
     * the next phase of conversations while it is down, and starts it again.
     */
    private static void crashMidStream(Pipeline pipeline, ServiceProcess service, String topic, long progress,
                                       String run, String dataset, int phase) throws Exception {
        await(service.name() + " under way", () -> pipeline.endOffsets(topic) >= progress);
        service.kill();
        pipeline.produce(run, dataset, phase * PHASE, (phase + 1) * PHASE);
        service.restart();
    }

    private static void await(String what, java.util.concurrent.Callable<Boolean> condition) {
        Awaitility.await().alias(what).atMost(PATIENCE).pollInterval(Duration.ofSeconds(1)).until(condition);
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
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                pipeline.ingest.uri("/datasets/" + dataset)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return EventJson.mapper().readTree(response.body()).path("totals");
    }
}
