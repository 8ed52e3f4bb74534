package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.streamtune.events.Topics;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.testing.SharedData;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The platform end to end, as a user runs it: the five services as separate processes on the real broker and
 * database, a LoRA recipe posted to trainer-service, real ShareGPT conversations streamed in, stories260K fine-tuned
 * and every checkpoint evaluated. Then every stage's accounting holds, the validation loss after training is below
 * the base model's, and the page at /watch, loaded in real headless Chromium, charts every logged step.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONVERSATIONS = 60;
    private static final Path CHROMIUM = Path.of(System.getProperty("streamtune.chromium", "/usr/bin/chromium"));

    private Pipeline pipeline;
    private String dataset;
    private String runId;
    private String recipeId;
    private int conversations;

    @BeforeAll
    void trainAndEvaluate() throws Exception {
        Path models = SharedData.models();
        String run = UUID.randomUUID().toString().substring(0, 8);
        dataset = "e2e-" + run;
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode conversation : TrainingPipelineIT.sharegptConversations()) {
            if (all.size() == CONVERSATIONS) {
                break; // a few dozen steps on two cores
            }
            // ShareGPT's system turn: other tests publish these conversations without one, and ingest drops a
            // conversation whose content any dataset already has
            ((ArrayNode) conversation.path("conversations"))
                    .insertObject(0)
                    .put("from", "system")
                    .put("value", "You are a helpful assistant.");
            all.add(conversation);
        }
        conversations = all.size();
        pipeline = Pipeline.start(
                Infrastructure.kafkaBootstrapServers(),
                Infrastructure.database(),
                "e2e-" + run,
                models,
                Map.of(
                        "TRAINER_CHECKPOINT_ROOT",
                        Pipeline.ROOT
                                .resolve("pipeline-tests/target/e2e-" + run + "/checkpoints")
                                .toString()));
        runId = TrainingPipelineIT.post(
                pipeline,
                TrainingPipelineIT.recipe("e2e-" + run, dataset)
                        .lora("r", 8)
                        .lora("lora_alpha", 16)
                        .lora("target_modules", List.of("q_proj", "k_proj", "v_proj", "o_proj"))
                        .yaml());
        TrainingPipelineIT.produce(pipeline, dataset, all);
        TrainingPipelineIT.settled("every batch trained", pipeline, runId);
        recipeId = TrainingPipelineIT.run(pipeline, runId).path("recipeId").asText();

        long announced = new TopicReader(pipeline.kafkaSettings)
                .readAll(Topics.CHECKPOINTS).stream()
                        .filter(r -> recipeId.equals(r.key()))
                        .count();
        Awaitility.await("every checkpoint of " + recipeId + " scored")
                .atMost(Accounting.PATIENCE)
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    JsonNode rows = TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/checkpoints");
                    long scored = 0;
                    for (JsonNode row : rows) {
                        scored += row.path("status").asText().equals("SCORED") ? 1 : 0;
                    }
                    return scored == announced + 1; // and the base model
                });
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void everyStageAccountsForEveryRecordAndTheModelLearns() throws Exception {
        JsonNode ingest = http(pipeline.ingest.uri("/datasets/" + dataset)).path("totals");
        assertThat(ingest.path("records").asLong())
                .as("ingest: read = published + rejected + duplicates + unused")
                .isEqualTo(ingest.path("published").asLong()
                        + ingest.path("rejected").asLong()
                        + ingest.path("duplicates").asLong()
                        + ingest.path("unused").asLong())
                .isEqualTo(conversations);

        TopicReader topics = new TopicReader(pipeline.kafkaSettings);
        JsonNode format = http(pipeline.format.uri("/recipes/" + recipeId));
        assertThat(format.path("formatted").asLong() + format.path("rejected").asLong())
                .as("format: every conversation of the recipe's dataset formatted or rejected")
                .isEqualTo(ingest.path("published").asLong());
        assertThat(format.path("formatted").asLong()
                        + format.path("rejected").asLong()
                        + format.path("skipped").asLong())
                .as("format: read = formatted + rejected + skipped (other datasets)")
                .isEqualTo(topics.readAll(Topics.CONVERSATIONS).size());

        JsonNode tokenize = http(pipeline.tokenize.uri("/recipes/" + recipeId));
        assertThat(tokenize.path("read").asLong())
                .as("tokenize: read = train + eval + rejected + duplicates + skipped")
                .isEqualTo(tokenize.path("train").asLong()
                        + tokenize.path("eval").asLong()
                        + tokenize.path("rejected").asLong()
                        + tokenize.path("duplicates").asLong()
                        + tokenize.path("skipped").asLong())
                .isEqualTo(topics.readAll(Topics.EXAMPLES).size());
        assertThat(tokenize.path("train").asLong()
                        + tokenize.path("eval").asLong()
                        + tokenize.path("rejected").asLong())
                .as("tokenize: every example format wrote for the recipe")
                .isEqualTo(format.path("formatted").asLong());
        assertThat(tokenize.path("eval").asLong())
                .as("ingest's split held examples out")
                .isPositive();

        JsonNode trainer = TrainingPipelineIT.run(pipeline, runId);
        assertThat(trainer.path("step").asLong())
                .as("trainer: every whole step of the batches trained")
                .isEqualTo(tokenize.path("batches").asLong() / 2);

        long heldOut = topics.readAll(Topics.EVAL_EXAMPLES).stream()
                .filter(r -> r.key().startsWith(recipeId + ":"))
                .map(r -> r.key())
                .distinct()
                .count();
        assertThat(heldOut)
                .as("tokenize: each held-out example out in one or more windows")
                .isGreaterThanOrEqualTo(tokenize.path("eval").asLong());
        JsonNode sets = TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/sets");
        assertThat(sets.path("sizes").path("valid").asLong()
                        + sets.path("sizes").path("test").asLong())
                .as("eval: every held-out window in a set")
                .isEqualTo(heldOut);

        JsonNode best = TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/best?metric=valid_loss");
        assertThat(best.path("value").asDouble())
                .as(best.path("summary").asText())
                .isLessThan(best.path("baseline").asDouble());
    }

    @Test
    void thePageChartsEveryLoggedStepInHeadlessChromium() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM),
                "skipped: no Chromium at " + CHROMIUM
                        + " (Debian: apt-get install chromium; or -Dstreamtune.chromium=/path/to/chromium)");
        int steps =
                TrainingPipelineIT.get(pipeline, "/runs/" + runId + "/steps").size();
        JsonNode evaluations = TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/evaluations");
        long scoredValid = 0;
        for (JsonNode evaluation : evaluations) {
            if (!evaluation.path("base").asBoolean()
                    && evaluation.path("split").asText().equals("valid")
                    && evaluation.path("error").isNull()) {
                scoredValid++;
            }
        }
        String url = pipeline.eval.uri("/watch/#recipe=" + recipeId).toString();
        Path target = Pipeline.ROOT.resolve("pipeline-tests/target");
        String dom = chromium(target, url, "--dump-dom");

        assertThat(dom).as("the page loaded its data").contains("data-loaded=\"true\"");
        assertThat(attribute(dom, "loss-chart", "data-points"))
                .as("train loss points")
                .isEqualTo(steps);
        assertThat(chart(dom, "loss-chart")).as("uPlot drew the loss curve").contains("<canvas");
        assertThat(attribute(dom, "eval-chart", "data-points"))
                .as("validation loss points")
                .isEqualTo(scoredValid);
        assertThat(dom).contains("<tr class=\"base\">").contains("Best: valid loss ");
        assertThat(dom)
                .as("format's and tokenize's counts")
                .contains("formatted ")
                .contains(" batches");
        // the lag chart is a history eval-service sampled (each second here), not the value of the moment
        JsonNode lag = TrainingPipelineIT.evalGet(pipeline, "/watch/api/recipes/" + recipeId + "/lag");
        assertThat(attribute(dom, "lag-chart", "data-points"))
                .as("lag samples charted")
                .isGreaterThanOrEqualTo(3)
                .isLessThanOrEqualTo(lag.size());
        assertThat(chart(dom, "lag-chart")).as("uPlot drew the lag chart").contains("<canvas");
        for (int i = 1; i < lag.size(); i++) {
            assertThat(Instant.parse(lag.get(i).path("at").asText()))
                    .as("lag samples in time order")
                    .isAfter(Instant.parse(lag.get(i - 1).path("at").asText()));
        }
        JsonNode last = lag.get(lag.size() - 1);
        assertThat(last.path("format").asLong(-1))
                .as("format has read every conversation: " + last)
                .isZero();
        assertThat(last.path("tokenize").asLong(-1))
                .as("tokenize has read every example: " + last)
                .isZero();
        assertThat(dom).doesNotContain("class=\"unavailable\"");
        // for the README: what a user sees
        chromium(
                target,
                url,
                "--screenshot=" + target.resolve("watch-page.png"),
                "--window-size=1400,1500",
                "--hide-scrollbars");
        assertThat(target.resolve("watch-page.png")).isNotEmptyFile();
    }

    /** Runs headless Chromium on {@code url} with a fresh profile and no background traffic; returns its output. */
    private static String chromium(Path workDir, String url, String... what) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(workDir, "chromium-profile");
        List<String> command = new ArrayList<>(List.of(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile,
                // the page polls every few seconds: let it load and draw before the DOM is read
                "--virtual-time-budget=15000"));
        command.addAll(List.of(what));
        command.add(url);
        Process process = new ProcessBuilder(command)
                .redirectError(workDir.resolve("chromium.log").toFile())
                .start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS))
                .as("Chromium finished")
                .isTrue();
        assertThat(process.exitValue())
                .as("Chromium's exit status; see " + workDir.resolve("chromium.log"))
                .isZero();
        return out;
    }

    /** The opening tag of the element with this id, and what follows it up to the next section. */
    private static String chart(String dom, String id) {
        int start = dom.indexOf("id=\"" + id + "\"");
        assertThat(start).as("element " + id + " in the page").isNotNegative();
        int end = dom.indexOf("</section>", start);
        return dom.substring(start, end < 0 ? dom.length() : end);
    }

    private static int attribute(String dom, String id, String attribute) {
        Matcher tag = Pattern.compile("<[a-z]+[^>]*\\bid=\"" + id + "\"[^>]*>").matcher(dom);
        assertThat(tag.find()).as("element " + id + " in the page").isTrue();
        Matcher value = Pattern.compile("\\b" + attribute + "=\"(\\d+)\"").matcher(tag.group());
        assertThat(value.find()).as(attribute + " of " + id).isTrue();
        return Integer.parseInt(value.group(1));
    }

    private static JsonNode http(URI uri) throws Exception {
        var response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(uri)
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(uri + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
