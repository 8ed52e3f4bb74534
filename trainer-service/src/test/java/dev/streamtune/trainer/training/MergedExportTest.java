package dev.streamtune.trainer.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.CausalLm;
import dev.streamtune.lm.ModelSource;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.io.Safetensors;
import dev.streamtune.lm.io.TensorDtype;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.testing.SharedData;
import dev.streamtune.trainer.StoriesRecipes;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.plan.TrainingPlans;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    /**
     * model_config.dtype: bfloat16 writes the merged export's weights in bfloat16, each the float32 export's value
     * rounded to nearest (within bfloat16's resolution, half a unit in its 8 significant bits), and says so in
     * config.json; float16 likewise; auto is float32.
     */
    @Test
    void aMergedExportIsWrittenInTheRecipesDtype() throws Exception {
        String yaml = StoriesRecipes.lora("dtype-export", 4, 4).replace("  lora_dropout: 0.1\n", "");
        TrainingPlan float32 = new TrainingPlans(SharedData.models())
                .of(RecipeParser.parse(yaml, "test").recipe());
        Path checkpoint = folder.resolve("checkpoint-4");
        try (TrainingSession session = TrainingSession.start(float32, Precision.FLOAT32, Compute.newManager())) {
            for (BatchTensors batch :
                    StoryBatches.make(SharedData.models().resolve("stories260K/tok512.bin"), "r", 8, 2, 64).stream()
                            .map(b -> BatchTensors.of(b, 512, 512))
                            .toList()) {
                session.train(batch);
            }
            Files.createDirectories(checkpoint);
            session.tuning().writeArtefact(checkpoint);
        }
        Path wide = MergedExport.write(float32, checkpoint, folder.resolve("float32"));
        assertThat(Safetensors.header(wide.resolve("model.safetensors")).tensors())
                .allSatisfy(t -> assertThat(t.dtype()).isEqualTo(TensorDtype.F32));

        for (String dtype : new String[] {"bfloat16", "float16", "auto"}) {
            TrainingPlan plan = new TrainingPlans(SharedData.models())
                    .of(RecipeParser.parse(
                                    yaml.replace(
                                            "  tokenizer: stories260K\n",
                                            "  tokenizer: stories260K\n  torch_dtype: " + dtype + "\n"),
                                    "test")
                            .recipe());
            Path narrow = MergedExport.write(plan, checkpoint, folder.resolve(dtype));
            TensorDtype expected = switch (dtype) {
                case "bfloat16" -> TensorDtype.BF16;
                case "float16" -> TensorDtype.F16;
                default -> TensorDtype.F32;
            };
            assertThat(Safetensors.header(narrow.resolve("model.safetensors")).tensors())
                    .allSatisfy(t -> assertThat(t.dtype()).isEqualTo(expected));
            assertThat(new ObjectMapper()
                            .readTree(narrow.resolve("config.json").toFile())
                            .path("torch_dtype")
                            .asText())
                    .isEqualTo(dtype.equals("auto") ? "float32" : dtype);
            try (NDManager manager = Compute.newManager()) {
                Map<String, NDArray> reference = Safetensors.read(wide.resolve("model.safetensors"), manager);
                Map<String, NDArray> read = Safetensors.read(narrow.resolve("model.safetensors"), manager);
                assertThat(read.keySet()).containsExactlyElementsOf(reference.keySet());
                // bfloat16 keeps 8 significant bits, float16 11 (its normal range covers these weights)
                double resolution = expected == TensorDtype.BF16 ? 0x1p-8 : expected == TensorDtype.F16 ? 0x1p-11 : 0;
                float changed = 0;
                for (String name : reference.keySet()) {
                    float[] exact = reference.get(name).toFloatArray();
                    float[] rounded = read.get(name).toFloatArray();
                    for (int i = 0; i < exact.length; i++) {
                        assertThat((double) Math.abs(rounded[i] - exact[i]))
                                .as("%s %s[%d]", dtype, name, i)
                                .isLessThanOrEqualTo(Math.abs(exact[i]) * resolution + 0x1p-24);
                        changed = Math.max(changed, Math.abs(rounded[i] - exact[i]));
                    }
                }
                if (expected != TensorDtype.F32) {
                    assertThat(changed).as("the weights were rounded").isGreaterThan(0f);
                }
            }
        }
    }
}
