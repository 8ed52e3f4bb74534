package dev.streamtune.eval.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.streamtune.eval.TestConfigs;
import dev.streamtune.eval.checkpoint.CheckpointStatus;
import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvaluationRow;
import dev.streamtune.eval.checkpoint.ScoredCheckpointRow;
import dev.streamtune.eval.score.BaseIdentity;
import dev.streamtune.eval.score.ScoringModels;
import dev.streamtune.eval.set.EvalExampleRow;
import dev.streamtune.events.CheckpointDigest;
import dev.streamtune.events.Evaluation;
import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.recipe.RecipeModels;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.streams.AcknowledgedPublisher;
import dev.streamtune.streams.KafkaSettings;
import dev.streamtune.streams.StageContext;
import dev.streamtune.testing.RecipeYaml;
import dev.streamtune.testing.SharedData;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * The scorer's rounds on the test's thread, over a database in memory and stories260K: the store stops the scorer
 * once a scoring is finished, so no timing is involved.
 */
class ScorerTest {

    private static final String RECIPE = "r1";

    /**
     * One recipe's base to score on two validation examples. Reading the examples fails the first time as a lost
     * connection does, through EvalStore's own handling of its transactions; every finished scoring stops the scorer.
     */
    static class Database extends EvalStore {
        final ScoredCheckpointRow base = new ScoredCheckpointRow();
        final List<CheckpointStatus> finished = new ArrayList<>();
        final List<EvaluationRow> stored = new ArrayList<>();
        final List<ScoredCheckpointRow> pending = new ArrayList<>();
        final List<String> details = new ArrayList<>();
        int resets;
        int examplesFailures = 1;
        Scorer scorer;

        Database() {
            super(work -> {
                throw new JDBCConnectionException(
                        "JDBC exception executing SQL [This connection has been closed.]",
                        new PSQLException("This connection has been closed.", PSQLState.CONNECTION_DOES_NOT_EXIST));
            });
            base.id = 1L;
            base.recipeId = RECIPE;
            base.checksum = Evaluation.BASE;
            base.runId = RECIPE + "-run";
            base.step = 0;
            base.status = CheckpointStatus.PENDING;
            base.receivedAt = Instant.now();
        }

        @Override
        public SetState setState(String recipeId) {
            return new SetState(Set.of("a", "b"), Map.of(Split.VALID, 2));
        }

        @Override
        public List<EvalExampleRow> examples(String recipeId, Split split, int count) {
            if (examplesFailures > 0) {
                examplesFailures--;
                scorer.wake(); // the round after the failure need not wait out the scorer's pause
                return super.examples(recipeId, split, count);
            }
            List<EvalExampleRow> rows = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                EvalExampleRow row = new EvalExampleRow();
                row.exampleKey = RECIPE + ":c" + i;
                row.inputIds = new int[] {1, 20 + i, 30, 40, 50, 2};
                row.labels = new int[] {-100, -100, 30, 40, 50, 2};
                row.promptTokens = 2;
                rows.add(row);
            }
            return rows;
        }

        @Override
        public ScoredCheckpointRow base(String recipeId, String baseIdentity, String runId, String model) {
            base.baseIdentity = baseIdentity;
            return base;
        }

        @Override
        public boolean scoredOn(long checkpointId, Split split, long examples) {
            return stored.stream().anyMatch(row -> row.error == null && row.examples == examples);
        }

        @Override
        public void status(long id, CheckpointStatus status, String detail) {
            base.status = status;
        }

        @Override
        public List<EvaluationRow> finish(
                long checkpointId, List<Result> results, CheckpointStatus status, String detail) {
            base.status = status;
            finished.add(status);
            details.add(detail);
            results.forEach(result -> stored.add(result.evaluation()));
            scorer.stop();
            return List.of();
        }

        @Override
        public int resetScoring() {
            resets++;
            boolean scoring = base.status == CheckpointStatus.SCORING;
            if (scoring) {
                base.status = CheckpointStatus.PENDING;
            }
            return scoring ? 1 : 0;
        }

        @Override
        public List<ScoredCheckpointRow> withStatus(String recipeId, CheckpointStatus status) {
            return status == CheckpointStatus.PENDING ? pending : List.of();
        }

        @Override
        public List<ScoredCheckpointRow> outside(Set<String> active, CheckpointStatus status) {
            return List.of();
        }

        @Override
        public long count(String recipeId, CheckpointStatus status) {
            return 0;
        }

        @Override
        public List<EvaluationRow> unpublished() {
            return List.of();
        }
    }

    @Test
    void aDatabaseFailureWhileScoringIsARoundTriedAgainNotTheCheckpointsProblem() throws Exception {
        Path models = SharedData.models();
        Database database = new Database();
        try (ScoringModels scoring = new ScoringModels(1)) {
            Scorer scorer = scorer(models, models, database, scoring);

            scorer.run();

            assertThat(database.finished).containsExactly(CheckpointStatus.SCORED);
            assertThat(database.stored).singleElement().satisfies(row -> {
                assertThat(row.error).isNull();
                assertThat(row.examples).isEqualTo(2);
                assertThat(row.loss).isPositive();
            });
            assertThat(database.resets)
                    .as("the base left SCORING by the failure was made pending again")
                    .isEqualTo(2);
            assertThat(scorer.failure()).isNull();
        }
    }

    @Test
    void aCheckpointThroughDotDotOutOfTheCheckpointRootFailsUnread(@TempDir Path folder) throws Exception {
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        Path outside = checkpointFolder(folder.resolve("elsewhere"));
        String location = root.toUri() + "../elsewhere/checkpoint-1";

        assertThat(scoreCheckpoint(root, location)).isEqualTo(outsideRoot(location, root));
        assertThat(outside).exists();
    }

    @Test
    void aCheckpointAtAnAbsolutePathOutsideTheCheckpointRootFailsUnread(@TempDir Path folder) throws Exception {
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        String location = checkpointFolder(folder.resolve("elsewhere")).toString();

        assertThat(scoreCheckpoint(root, location)).isEqualTo(outsideRoot(location, root));
    }

    @Test
    void aCheckpointThroughALinkOutOfTheCheckpointRootFailsUnread(@TempDir Path folder) throws Exception {
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        Path outside = checkpointFolder(folder.resolve("elsewhere"));
        Files.createSymbolicLink(root.resolve("run"), outside.getParent());
        String location = root.resolve("run/checkpoint-1").toUri().toString();

        assertThat(scoreCheckpoint(root, location)).isEqualTo(outsideRoot(location, root));
    }

    @Test
    void theRefusalDoesNotSayWhetherTheOutsideFolderExists(@TempDir Path folder) throws Exception {
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        String present = checkpointFolder(folder.resolve("elsewhere")).toString();
        String absent = folder.resolve("absent/checkpoint-1").toString();

        assertThat(scoreCheckpoint(root, absent))
                .isEqualTo(scoreCheckpoint(root, present).replace(present, absent));
    }

    @Test
    void aCheckpointUnderTheCheckpointRootIsRead(@TempDir Path folder) throws Exception {
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        String location = checkpointFolder(root.resolve("run")).toUri().toString();

        // read, and found wanting: the test's folder is no checkpoint of the announced checksum
        assertThat(scoreCheckpoint(root, location)).contains("checksum").doesNotContain("leads outside");
    }

    /** Checkpoints announced one after another: each becomes pending once the one before it is finished. */
    static final class Announcements extends Database {
        final Deque<ScoredCheckpointRow> announced = new ArrayDeque<>();
        final List<Long> finishedIds = new ArrayList<>();

        @Override
        public List<EvaluationRow> finish(
                long checkpointId, List<Result> results, CheckpointStatus status, String detail) {
            finished.add(status);
            finishedIds.add(checkpointId);
            details.add(detail);
            results.forEach(result -> stored.add(result.evaluation()));
            pending.clear();
            if (announced.isEmpty()) {
                scorer.stop();
            } else {
                pending.add(announced.removeFirst());
            }
            return List.of();
        }
    }

    /**
     * A checkpoint announced complete whose folder is missing, then one whose files do not give the announced
     * checksum (a torn copy), are each finished FAILED once with the reason, and the checkpoint announced after them
     * is scored: neither is tried again, nor holds the later ones up.
     */
    @Test
    void aMissingOrTornCheckpointFailsOnceWithItsReasonAndTheNextIsScored(@TempDir Path folder) throws Exception {
        Path models = SharedData.models();
        Path root = Files.createDirectories(folder.resolve("checkpoints"));
        Path good = root.resolve("run/checkpoint-3");
        try (ScoringModels scoring = new ScoringModels(1);
                NDManager manager = Compute.newManager()) {
            CausalLm model = scoring.base(RECIPE, new RecipeModels(models).base(recipe()));
            LoraSpec spec = new LoraSpec(4, 8, 0, TargetModules.of(List.of("q_proj", "v_proj")), false);
            PeftAdapterFolder.save(good, LoraAdapters.create(spec, model, manager), model, "stories260K");
        }
        Path torn = checkpointFolder(root.resolve("torn"));
        Announcements database = new Announcements();
        database.examplesFailures = 0;
        EvaluationRow scoredBase = new EvaluationRow();
        scoredBase.examples = 2;
        database.stored.add(scoredBase);
        database.pending.add(
                checkpoint(2L, 1, root.resolve("run/checkpoint-1").toUri().toString(), "sha256:" + "1".repeat(64)));
        database.announced.add(checkpoint(3L, 2, torn.toUri().toString(), "sha256:" + "0".repeat(64)));
        database.announced.add(checkpoint(4L, 3, good.toUri().toString(), CheckpointDigest.of(good)));

        try (ScoringModels scoring = new ScoringModels(1)) {
            scorer(models, root, database, scoring).run();
        }

        assertThat(database.finishedIds).containsExactly(2L, 3L, 4L);
        assertThat(database.finished)
                .containsExactly(CheckpointStatus.FAILED, CheckpointStatus.FAILED, CheckpointStatus.SCORED);
        assertThat(database.details.get(0)).contains("checkpoint-1", "does not exist");
        assertThat(database.details.get(1)).contains("torn", "checksum mismatch");
        assertThat(database.details.get(2)).isNull();
        assertThat(database.stored.get(database.stored.size() - 1).error).isNull();
    }

    private static ScoredCheckpointRow checkpoint(long id, long step, String location, String checksum) {
        ScoredCheckpointRow checkpoint = new ScoredCheckpointRow();
        checkpoint.id = id;
        checkpoint.recipeId = RECIPE;
        checkpoint.runId = RECIPE + "-run";
        checkpoint.step = step;
        checkpoint.checksum = checksum;
        checkpoint.format = "peft-lora";
        checkpoint.location = location;
        checkpoint.status = CheckpointStatus.PENDING;
        checkpoint.receivedAt = Instant.now();
        return checkpoint;
    }

    /** A folder with a file in it, as a checkpoint folder is. */
    private static Path checkpointFolder(Path run) throws IOException {
        Path checkpoint = Files.createDirectories(run.resolve("checkpoint-1"));
        Files.writeString(checkpoint.resolve("adapter_config.json"), "{}");
        return checkpoint;
    }

    private static String outsideRoot(String location, Path root) {
        return "location: '" + location + "' leads outside the checkpoint root " + root
                + "; only paths under it are used";
    }

    /** The detail a checkpoint announced at {@code location} is finished with, the base already scored. */
    private static String scoreCheckpoint(Path checkpointRoot, String location) throws Exception {
        Path models = SharedData.models();
        Database database = new Database();
        database.examplesFailures = 0;
        EvaluationRow scoredBase = new EvaluationRow();
        scoredBase.examples = 2;
        database.stored.add(scoredBase);
        ScoredCheckpointRow checkpoint = new ScoredCheckpointRow();
        checkpoint.id = 2L;
        checkpoint.recipeId = RECIPE;
        checkpoint.runId = RECIPE + "-run";
        checkpoint.step = 1;
        checkpoint.checksum = "sha256:" + "0".repeat(64);
        checkpoint.format = "peft-lora";
        checkpoint.location = location;
        checkpoint.status = CheckpointStatus.PENDING;
        checkpoint.receivedAt = Instant.now();
        database.pending.add(checkpoint);
        try (ScoringModels scoring = new ScoringModels(1)) {
            scorer(models, checkpointRoot, database, scoring).run();
        }
        assertThat(database.finished).containsExactly(CheckpointStatus.FAILED);
        assertThat(database.stored.get(database.stored.size() - 1).error).isEqualTo(database.details.get(0));
        return database.details.get(0);
    }

    private static Recipe recipe() {
        return RecipeYaml.withId(RECIPE)
                .stories260K()
                .data("valid_size", 2)
                .data("test_size", 0)
                .lora("r", 4)
                .generation("num_samples", 0)
                .parse("test");
    }

    private static Scorer scorer(Path models, Path checkpointRoot, Database database, ScoringModels scoring) {
        Recipe recipe = recipe();
        RecipeModels.Base base = new RecipeModels(models).base(recipe);
        EvalMetrics metrics = new EvalMetrics(new SimpleMeterRegistry());
        AcknowledgedPublisher publisher = new AcknowledgedPublisher(
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()),
                Duration.ofSeconds(5));
        StageContext context = new StageContext(
                EvalStage.SERVICE,
                EvalStage.STAGE,
                KafkaSettings.bootstrap("localhost:1"),
                publisher,
                config -> {
                    throw new UnsupportedOperationException("the sets are not read in this test");
                },
                Duration.ofMillis(1));
        EvalSetWorker worker = new EvalSetWorker(
                context,
                recipe,
                base,
                BaseIdentity.of(recipe, base, models),
                database,
                metrics,
                1000,
                Duration.ofHours(1),
                () -> {});
        worker.starting(); // the sets as the database holds them: complete
        Scorer scorer = new Scorer(
                () -> Map.of(RECIPE, worker),
                () -> true,
                recipeId -> null,
                database,
                scoring,
                metrics,
                publisher,
                TestConfigs.of(models, checkpointRoot, Duration.ofHours(1), 1000, 2, Duration.ofSeconds(5)));
        database.scorer = scorer;
        return scorer;
    }
}
