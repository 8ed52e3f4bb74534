package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folding LoRA into the base weights changes nothing the model computes, and the result is a loadable checkpoint. */
class LoraMergeTest {

    @TempDir
    Path folder;

    @Test
    void mergingIsExactInFloat64() throws Exception {
        // The merge's arithmetic, without float32 round-off: merged and adapted agree to 1e-5 and far beyond.
        assertThat(mergeError("all-linear", DataType.FLOAT64)).isLessThan(1e-9);
    }

    @Test
    void mergingInFloat32StaysWithinRoundOff() throws Exception {
        // W x + s B A x and (W + s B A) x round differently: measured 1.7e-5 on logits of magnitude up to 17, about
        // 1e-6 relative, which is the float32 floor of this model (the same arithmetic reordered gives 1.1e-5).
        assertThat(mergeError("all-linear", DataType.FLOAT32)).isLessThan(5e-5);
    }

    /** The largest logit difference between the adapted model and the merged one; also checks the folder round trip. */
    private double mergeError(String targets, DataType dtype) throws Exception {
        Path checkpoint = SharedData.require("models/stories260K/stories260K.bin");
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(11);
            Llama2cCheckpoint.Loaded original = Llama2cCheckpoint.read(checkpoint, manager);
            LlamaWeights weights = new LlamaWeights();
            original.weights().asMap().forEach((name, tensor) -> weights.put(name, tensor.toType(dtype, true)));
            Llama2cCheckpoint.Loaded loaded = new Llama2cCheckpoint.Loaded(original.config(), weights);
            LlamaModel adapted = new LlamaModel(loaded.config(), loaded.weights(), manager);
            Map<String, Shape> modules = new LinkedHashMap<>();
            adapted.linearModules()
                    .forEach(m -> modules.put(
                            m, loaded.weights().asMap().get(m + ".weight").getShape()));
            TargetModules targetModules = targets.equals("all-linear")
                    ? TargetModules.of(targets)
                    : TargetModules.of(List.of(targets.split(",")));
            LoraAdapters lora =
                    new LoraAdapters(new LoraSpec(8, 16, 0.0, targetModules, false), modules, dtype, manager);
            for (LoraWeights pair : lora.weights().values()) { // a non-zero B, as after training
                pair.b()
                        .set(
                                new NDIndex("..."),
                                manager.randomNormal(0f, 0.05f, pair.b().getShape(), DataType.FLOAT32)
                                        .toType(dtype, false));
            }
            NDArray tokens = manager.create(new int[][] {{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315}});
            double[] base = values(adapted.forward(tokens));
            adapted.setAdapters(lora);
            double[] expected = values(adapted.forward(tokens));
            assertThat(Differences.largest(base, expected))
                    .as("what the adapters change")
                    .isGreaterThan(1e-2f);
            double[] baseQuery = values(loaded.weights().asMap().get("model.layers.2.self_attn.q_proj.weight"));

            LlamaWeights mergedWeights = lora.merged(loaded.weights(), manager);
            LlamaModel merged = new LlamaModel(loaded.config(), mergedWeights, manager);
            double error = Differences.largest(values(merged.forward(tokens)), expected);
            assertThat(values(loaded.weights().asMap().get("model.layers.2.self_attn.q_proj.weight")))
                    .containsExactly(baseQuery);

            if (dtype != DataType.FLOAT32) {
                return error; // checkpoints are written in float32
            }
            HfCheckpointWriter.write(folder, loaded.config(), mergedWeights);
            Llama2cCheckpoint.Loaded reloaded = HfLlamaCheckpoint.read(folder, manager);
            LlamaModel fromFolder = new LlamaModel(reloaded.config(), reloaded.weights(), manager);
            // the folder is in the halves layout: the same arithmetic in another order (float32 round-off)
            assertThat(Differences.largest(values(fromFolder.forward(tokens)), expected))
                    .isLessThan(1e-4);
            return error;
        }
    }

    private static double[] values(NDArray array) {
        return array.toType(DataType.FLOAT64, false).toDoubleArray();
    }
}
