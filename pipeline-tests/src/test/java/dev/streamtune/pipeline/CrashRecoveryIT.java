package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.RecipeTopic;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import java.nio.file.Files;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of ingest-service, format-service and tokenize-service in turn, each while conversations stream through
 * {@code conversations-raw}, each started again: every conversation is published once, formatted, and trained or
 * held out for evaluation; no example key (split windows included) is in two batches.
 */
class CrashRecoveryIT {

    private static final int PHASE = 3_000;
    private static final int CONVERSATIONS = 4 * PHASE;

    @Test
    void killingEachServiceMidStreamLosesNothingAndBatchesNothingTwice() throws Exception {
        // One of the two runs in a suite: with the shared models, FiveServicesCrashIT kills these three services (and
        // the trainer and eval-service) over a longer stream, and this run would only repeat it.
        Assumptions.assumeFalse(
                Files.exists(SharedData.dir().resolve("models").resolve(RecipeYaml.STORIES260K)),
                "skipped: the shared models are present, so FiveServicesCrashIT runs these kills and more");
        String run = UUID.randomUUID().toString().substring(0, 8);
        String dataset = "crash-" + run;
        Recipe recipe = Pipeline.recipe("crash-" + run, dataset);
        try (Pipeline pipeline =
                Pipeline.start(Infrastructure.kafkaBootstrapServers(), Infrastructure.database(), "crash-" + run)) {
            RecipeTopic.publish(pipeline.kafka, recipe);

            pipeline.produce(run, dataset, 0, PHASE);
            crashMidStream(pipeline, pipeline.ingest, Topics.CONVERSATIONS, 500, run, dataset, 1);
            crashMidStream(pipeline, pipeline.format, Topics.EXAMPLES, 500, run, dataset, 2);
            crashMidStream(pipeline, pipeline.tokenize, Topics.BATCHES, 40, run, dataset, 3);

            Accounting.assertNothingLostNothingTwice(pipeline, recipe, dataset, CONVERSATIONS);
        }
    }

    /**
     * Streams the first half of a phase of conversations, kills {@code service} once it has put {@code progress}
     * records of them on {@code topic} (so that it dies with work under way: inputs read and not committed, outputs
     * buffered), streams the second half while it is down, and starts it again.
     */
    private static void crashMidStream(
            Pipeline pipeline,
            ServiceProcess service,
            String topic,
            long progress,
            String run,
            String dataset,
            int phase)
            throws Exception {
        long before = pipeline.endOffsets(topic);
        int from = phase * PHASE;
        pipeline.produce(run, dataset, from, from + PHASE / 2);
        await(service.name() + " under way", () -> pipeline.endOffsets(topic) >= before + progress);
        service.kill();
        pipeline.produce(run, dataset, from + PHASE / 2, from + PHASE);
        service.restart();
    }
}
