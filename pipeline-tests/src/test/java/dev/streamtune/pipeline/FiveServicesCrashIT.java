package dev.streamtune.pipeline;

import static dev.streamtune.pipeline.Accounting.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.localstack.Infrastructure;
import dev.streamtune.localstack.run.ServiceProcess;
import dev.streamtune.localstack.testing.RecipeTopic;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of each of the five services in turn, each while it works on the stream: 20,000 conversations go through
 * ingest, format and tokenize for one recipe, while a LoRA recipe on stories260K trains on a dataset streamed beside
 * them and eval-service scores its checkpoints. Each service dies once it has done some of a freshly streamed half
 * phase (records on its output; for the trainer, steps; for the evaluator, a checkpoint announced to it), the other
 * half streams while it is down, and it starts again.
 *
 * <p>Then: every conversation is published once and every window batched once (the accounting of
 * {@link CrashRecoveryIT}); the trained run's losses equal an uninterrupted replay of its batches, so every batch was
 * trained exactly once and in order, however many steps the trainer's kill threw away; every checkpoint announced
 * is scored, and scored once (one evaluation per checkpoint and split), its base loss a direct computation's.
 */
class FiveServicesCrashIT {

    private static final int PHASES = 5;
    /** Conversations a phase streams for the data stages' recipe: 20,000 in all. */
    private static final int BULK = 4_000;
    /** Conversations a phase streams for the trained recipe: 1,000 in all, to keep the training within minutes. */
    private static final int TRAINED = 200;

    @Test
    void killingEachOfTheFiveServicesMidStreamLosesNothingAndDoesNothingTwice() throws Exception {
        Path models = SharedData.models();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String bulk = "bulk-" + run;
        String trained = "trained-" + run;
        Recipe data = Pipeline.recipe("bulk-" + run, bulk);
        Path checkpoints = Pipeline.ROOT.resolve("pipeline-tests/target/five-" + run + "/checkpoints");

        try (Pipeline pipeline = Pipeline.start(
                Infrastructure.kafkaBootstrapServers(),
                Infrastructure.database(),
                "five-" + run,
                models,
                Map.of("TRAINER_CHECKPOINT_ROOT", checkpoints.toString()))) {
            RecipeTopic.publish(pipeline.kafka, data);
            String recipeId = "trained-" + run;
            String runId = TrainingPipelineIT.post(pipeline, recipe(recipeId, trained));
            Phases phases = new Phases(pipeline, run, bulk, trained);

            phases.crash(pipeline.ingest, progress(pipeline, Topics.CONVERSATIONS, 500));
            phases.crash(pipeline.format, progress(pipeline, Topics.EXAMPLES, 500));
            phases.crash(pipeline.tokenize, progress(pipeline, Topics.BATCHES, 40));
            phases.crash(pipeline.trainer, steps(pipeline, runId, 5));
            phases.crash(pipeline.eval, progress(pipeline, Topics.CHECKPOINTS, 1));

            Accounting.assertNothingLostNothingTwice(pipeline, data, bulk, PHASES * BULK);

            TrainingPipelineIT.settled("every batch of the trained recipe trained", pipeline, runId);
            List<TrainBatch> batches = pipeline.batches(recipeId);
            List<String> keys = new ArrayList<>();
            batches.forEach(batch -> keys.addAll(batch.exampleKeys()));
            assertThat(keys).as("example keys in the trained recipe's batches").doesNotHaveDuplicates();
            assertThat(batches).extracting(TrainBatch::sequenceNumber).doesNotHaveDuplicates();
            TrainingPipelineIT.assertResumedExactly(pipeline, models, runId);

            TrainingPipelineIT.assertEvaluated(pipeline, models, runId);
            List<String> scored = new ArrayList<>();
            for (JsonNode evaluation : TrainingPipelineIT.evalGet(pipeline, "/recipes/" + recipeId + "/evaluations")) {
                if (!evaluation.path("base").asBoolean()) {
                    scored.add(evaluation.path("checksum").asText() + "/"
                            + evaluation.path("split").asText());
                }
            }
            assertThat(scored)
                    .as("evaluations per checkpoint and split")
                    .isNotEmpty()
                    .doesNotHaveDuplicates();
        }
    }

    /** The five phases of the stream, each half streamed before a kill and half while the service is down. */
    private record Phases(Pipeline pipeline, String run, String bulk, String trained, int[] next) {

        Phases(Pipeline pipeline, String run, String bulk, String trained) {
            this(pipeline, run, bulk, trained, new int[1]);
        }

        /** Streams half a phase, kills {@code service} once {@code underWay} holds, streams the rest, restarts it. */
        void crash(ServiceProcess service, Callable<Callable<Boolean>> underWay) throws Exception {
            int phase = next[0]++;
            Callable<Boolean> condition = underWay.call(); // its starting point, taken before anything is streamed
            stream(phase, 0, 2);
            await(service.name() + " under way", condition);
            service.kill();
            stream(phase, 1, 2);
            service.restart();
        }

        /** The {@code half}-th of {@code halves} of a phase, for both datasets. */
        private void stream(int phase, int half, int halves) throws Exception {
            int bulkFrom = phase * BULK + half * BULK / halves;
            pipeline.produce(run, bulk, bulkFrom, bulkFrom + BULK / halves);
            int trainedFrom = phase * TRAINED + half * TRAINED / halves;
            pipeline.produce(run + "-trained", trained, trainedFrom, trainedFrom + TRAINED / halves);
        }
    }

    /** Once called, a condition: {@code records} more on {@code topic} than there were at the call. */
    private static Callable<Callable<Boolean>> progress(Pipeline pipeline, String topic, long records) {
        return () -> {
            long before = pipeline.endOffsets(topic);
            return () -> pipeline.endOffsets(topic) >= before + records;
        };
    }

    /** Once called, a condition: the run has trained {@code steps} more steps than at the call. */
    private static Callable<Callable<Boolean>> steps(Pipeline pipeline, String runId, long steps) {
        return () -> {
            long before = step(pipeline, runId);
            return () -> step(pipeline, runId) >= before + steps;
        };
    }

    /** The run's step; 0 before its row exists (it appears when the trainer's worker for the recipe starts). */
    private static long step(Pipeline pipeline, String runId) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(pipeline.trainer.uri("/runs/" + runId))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 404
                ? 0
                : TrainingPipelineIT.run(pipeline, runId).path("step").asLong();
    }

    /**
     * LoRA on stories260K with its tokenizer: ChatML rows of 64 tokens packed 4 to a batch, split into windows when
     * longer; 2 micro-batches a step, a checkpoint every 10 steps; eval-service generates for 2 examples a split.
     */
    private static String recipe(String id, String dataset) {
        return RecipeYaml.withId(id)
                .stories260K()
                .data("datasets", List.of(dataset))
                .data("format_type", "chatml")
                .data("train_on", "assistant")
                .data("max_seq_length", 64)
                .data("truncation", "split")
                .data("packing", true)
                .training("learning_rate", "5e-3")
                .training("lr_scheduler_type", "constant_with_warmup")
                .training("warmup_steps", 2)
                .training("per_device_train_batch_size", 4)
                .training("gradient_accumulation_steps", 2)
                .training("save_steps", 10)
                .training("seed", 11)
                .lora("r", 4)
                .lora("lora_alpha", 8)
                .lora("target_modules", List.of("q_proj", "k_proj", "v_proj", "o_proj"))
                .generation("num_samples", 2)
                .generation("max_new_tokens", 8)
                .yaml();
    }
}
