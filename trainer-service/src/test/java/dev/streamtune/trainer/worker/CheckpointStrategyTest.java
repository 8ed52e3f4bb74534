package dev.streamtune.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.Recipe;
import dev.streamtune.trainer.checkpoint.CheckpointStore;
import dev.streamtune.trainer.run.RunState;
import dev.streamtune.trainer.run.SavedCheckpointStatus;
import dev.streamtune.trainer.worker.TinyRecipes.Method;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * save_strategy and eval_strategy through the real worker: the checkpoints a run announces (each one scored by
 * eval-service) are those of its schedule, at steps or at the end of each pass over its data, and its end.
 */
class CheckpointStrategyTest {

    @TempDir
    Path folder;

    /** The steps checkpointed by a run of {@code yaml} over {@code batches} batches, trained to its end. */
    private Set<Long> checkpoints(String yaml, int batches, boolean epochs) throws Exception {
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(yaml);
            sandbox.arrive(recipe.id(), 0, batches);
            sandbox.process().drive();
            if (epochs) {
                sandbox.clock.advance(TrainerSandbox.STREAM_END_AFTER);
                sandbox.process().drive();
            }
            InMemoryRunLedger.Run run = sandbox.ledger.run(TrainerSandbox.runId(recipe));
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            return run.checkpointStatus.keySet();
        }
    }

    @Test
    void saveStrategyNoCheckpointsOnlyTheEnd() throws Exception {
        String yaml = TinyRecipes.recipe(
                "none", Method.LORA, 16, "max_steps: 6", "save_steps: 2\nsave_strategy: 'no'\neval_strategy: 'no'\n");
        assertThat(checkpoints(yaml, 6, false)).containsExactly(6L);
    }

    @Test
    void evalStepsCheckpointSoThatEachEvaluationHasOne() throws Exception {
        String yaml = TinyRecipes.recipe(
                "evaluate",
                Method.LORA,
                16,
                "max_steps: 7",
                "save_strategy: steps\nsave_steps: 4\nevaluation_strategy: steps\neval_steps: 3\n");
        assertThat(checkpoints(yaml, 7, false)).containsExactly(3L, 4L, 6L, 7L);
    }

    /** Epochs 3 over 4 batches, one per step: the passes end at steps 4, 8 and 12, not at save_steps. */
    @Test
    void saveStrategyEpochCheckpointsAtTheEndOfEachPass() throws Exception {
        String yaml = TinyRecipes.recipe(
                "epochs",
                Method.LORA,
                16,
                "num_train_epochs: 3",
                "lr_scheduler_type: constant_with_warmup\nsave_strategy: epoch\nsave_steps: 5\n");
        assertThat(checkpoints(yaml, 4, true)).containsExactly(4L, 8L, 12L);
    }

    /**
     * Accumulation runs on across passes: a pass that ends part-way through a step is checkpointed at the step it
     * ended in, once the next pass completes it (batches 4 and 8 end passes inside steps 2 and 3 of 3 batches each; a
     * checkpoint inside a step would lose its accumulated gradients). A first pass that only counts batches (a
     * decaying schedule needs the run's length) trains nothing and checkpoints nothing.
     */
    @Test
    void evalStrategyEpochCheckpointsThePassesLastStep() throws Exception {
        String yaml = TinyRecipes.recipe(
                "accumulated",
                Method.LORA,
                16,
                "num_train_epochs: 3",
                "gradient_accumulation_steps: 3\neval_strategy: epoch\nsave_strategy: 'no'\n");
        assertThat(checkpoints(yaml, 4, true)).containsExactly(2L, 3L, 4L);
    }

    /**
     * load_best_model_at_end makes the best checkpoint the run's artefact: save_total_limit keeps it however many
     * newer ones are written and scored worse, as the Trainer keeps its best_model_checkpoint.
     */
    @Test
    void saveTotalLimitNeverDeletesTheBestCheckpoint() throws Exception {
        try (TrainerSandbox sandbox = new TrainerSandbox(folder)) {
            Recipe recipe = sandbox.post(TinyRecipes.recipe(
                    "best",
                    Method.LORA,
                    16,
                    "max_steps: 8",
                    "save_steps: 1\nsave_total_limit: 1\nload_best_model_at_end: true\n"));
            String runId = TrainerSandbox.runId(recipe);
            sandbox.arrive(recipe.id(), 0, 3);
            sandbox.process().drive();
            sandbox.evaluation(runId, 1, 3.0);
            sandbox.evaluation(runId, 2, 1.0); // the best
            sandbox.evaluation(runId, 3, 2.0);
            sandbox.process().drive();
            for (int batch = 3; batch < 8; batch++) {
                sandbox.arrive(recipe.id(), batch, 1);
                sandbox.process().drive();
                sandbox.evaluation(runId, batch + 1, 5.0 + batch);
                sandbox.process().drive();
            }
            InMemoryRunLedger.Run run = sandbox.ledger.run(runId);
            assertThat(run.row.state).isEqualTo(RunState.FINISHED);
            assertThat(run.row.bestStep).isEqualTo(2L);
            assertThat(new CheckpointStore(sandbox.checkpointRoot, recipe.id(), runId)
                            .folders().stream()
                                    .map(CheckpointStore.Folder::step)
                                    .sorted()
                                    .toList())
                    .containsExactly(2L, 8L);
            assertThat(run.checkpointStatus.get(2L)).isEqualTo(SavedCheckpointStatus.AVAILABLE);
        }
    }
}
