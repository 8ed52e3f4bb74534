package dev.streamtune.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.StoriesRecipes;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A QLoRA checkpoint's adapter merged into the dequantised 4-bit base is a plain Hugging Face folder that computes
 * what the adapted 4-bit model computes, as PEFT's merge of a QLoRA adapter gives.
 */
class MergedExportTest {

    @TempDir
    Path folder;

    @Test
    void aQloraAdapterMergesIntoTheDequantisedBase() throws Exception {
        String yaml = StoriesRecipes.lora("qlora-export", 4, 4)
                .replace("  tokenizer: stories260K\n", "  tokenizer: stories260K\n  load_in_4bit: true\n")
                .replace("  lora_dropout: 0.1\n", "");
        TrainingPlan plan = new TrainingPlans(SharedData.models())
                .of(RecipeParser.parse(yaml, "test").recipe());
        assertThat(plan.quantization()).isNotNull();
        Path checkpoint = folder.resolve("checkpoint-4");
        int[][] tokens = {{1, 403, 261, 400, 289, 258, 370, 395}};
        float[] adapted;
        try (TrainingSession session = TrainingSession.start(plan, Precision.FLOAT32, Compute.newManager())) {
            for (BatchTensors batch :
                    StoryBatches.make(SharedData.models().resolve("stories260K/tok512.bin"), "r", 8, 2, 64).stream()
                            .map(b -> BatchTensors.of(b, 512, 512))
                            .toList()) {
                session.train(batch);
            }
            Files.createDirectories(checkpoint);
            session.tuning().writeArtefact(checkpoint);
            adapted = logits(session.model(), tokens);
        }
        Path merged = MergedExport.write(plan, checkpoint, folder.resolve("merged"));
        assertThat(merged.resolve("config.json")).exists();
        try (NDManager manager = Compute.newManager()) {
            float[] plain = logits(ModelSource.at(merged).load(7, Precision.FLOAT32, manager), tokens);
            float largest = 0;
            for (int i = 0; i < adapted.length; i++) {
                assertThat(plain[i]).as("logit %d", i).isCloseTo(adapted[i], within(1e-3f));
                largest = Math.max(largest, Math.abs(adapted[i]));
            }
            assertThat(largest).isGreaterThan(1f);
            // the same adapter on the float32 base it was not trained on computes something else
            CausalLm dense = plan.model().load(plan.seed(), Precision.FLOAT32, manager);
            dense.setAdapters(PeftAdapterFolder.load(checkpoint, dense, manager, false));
            float[] onDense = logits(dense, tokens);
            float differs = 0;
            for (int i = 0; i < adapted.length; i++) {
                differs = Math.max(differs, Math.abs(onDense[i] - adapted[i]));
            }
            assertThat(differs)
                    .as("the 4-bit base's rounding shows in the logits")
                    .isGreaterThan(1e-2f);
        }
    }

    private static float[] logits(CausalLm model, int[][] tokens) {
        try (NDManager scope = Compute.newManager()) {
            NDArray batch = scope.create(tokens);
            return model.forward(batch, null, false).toFloatArray();
        }
    }
}
