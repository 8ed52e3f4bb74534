package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.PeftAdapterFolder;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.generate.Generator;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.HfCheckpointWriter;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.lm.train.Gradients;
import dev.streamtune.testing.SharedData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step leaves nothing behind on the model's long-lived manager. DJL puts an operation's result on its left
 * operand's manager, so a lookup into a weight, a view of one, or a product with one on the left lands next to the
 * weights and lives as long as the model unless it is moved into the step's scope: a tensor of activations per step
 * (seen: the embedding lookup, 64 KiB a step on the tiny config, growing a training process without bound).
 */
class StepMemoryTest {

    /** Untied head, so that its own weight is used; float32, so that it quantises. */
    private static final LlamaConfig CONFIG =
            new LlamaConfig(64, 128, 2, 4, 2, 256, 32, 10000.0, 1e-5, RopeStyle.HALF, false, null);

    private static final LoraSpec LORA =
            new LoraSpec(4, 8, 0.1, TargetModules.of(List.of("q_proj", "v_proj", "down_proj")), false);

    @Test
    void fullFineTuningLeavesNothingOnTheModelsManager() {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = llama(manager);
            List<NDArray> trainable = new ArrayList<>(model.weights().asMap().values());
            trainable.forEach(p -> p.setRequiresGradient(true));
            AdamW optimizer = new AdamW(trainable, List.of(), 0.9, 0.999, 1e-8, 0.01, manager);
            assertStepsLeaveNothing(manager, () -> {
                train(model, manager, false);
                Gradients.scale(trainable, 0.5);
                Gradients.clipGlobalNorm(trainable, 1e-3); // small enough to clip
                optimizer.step(1e-3, 1);
            });
        }
    }

    @Test
    void adaptersAndGatesLeaveNothingOnTheModelsManager() {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = llama(manager);
            model.setAdapters(LoraAdapters.create(LORA, model.linearWeights(), manager));
            assertStepsLeaveNothing(manager, () -> train(model, manager, false));

            model.setAdapters(LoraAdapters.create(
                    new LoraSpec(4, 8, 0.0, LORA.targets(), false, true, false),
                    model.linearWeights(),
                    manager)); // DoRA
            assertStepsLeaveNothing(manager, () -> train(model, manager, false));

            model.setAdapters(null);
            model.setHeadEdits(new JolaGates(CONFIG.layers(), CONFIG.heads(), CONFIG.headDim(), manager));
            assertStepsLeaveNothing(manager, () -> train(model, manager, false));
        }
    }

    @Test
    void checkpointedStepsAndA4BitBaseLeaveNothingOnTheModelsManager() {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = llama(manager);
            model.quantize(FourBitType.NF4, true);
            model.setAdapters(LoraAdapters.create(LORA, model, manager));
            assertStepsLeaveNothing(manager, () -> train(model, manager, false));
            assertStepsLeaveNothing(manager, () -> train(model, manager, true));
        }
    }

    @Test
    void scoringAndGenerationLeaveNothingOnTheModelsManager() {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = llama(manager);
            model.setAdapters(LoraAdapters.create(LORA, model.linearWeights(), manager));
            assertStepsLeaveNothing(manager, () -> score(model, manager));
            assertStepsLeaveNothing(manager, () -> generate(model, manager));
        }
    }

    @Test
    void gpt2LeavesNothingOnTheModelsManager() throws Exception {
        Path folder = SharedData.require("models/tiny-gpt2");
        try (NDManager manager = Compute.newManager()) {
            Gpt2Model model = Gpt2Model.read(folder, manager);
            model.setAdapters(LoraAdapters.create(
                    new LoraSpec(4, 8, 0.1, TargetModules.of(List.of("c_attn")), false).withFanInFanOut(true),
                    model,
                    manager));
            assertStepsLeaveNothing(manager, () -> train(model, manager, false));
            assertStepsLeaveNothing(manager, () -> score(model, manager));
            assertStepsLeaveNothing(manager, () -> generate(model, manager));
        }
    }

    /**
     * What a checkpoint writes, for a model with llama2.c's interleaved rotary pairs, whose query and key rows are
     * permuted on the way out: a Hugging Face folder (full fine-tuning) and a PEFT folder (DoRA, with magnitudes).
     */
    @Test
    void checkpointFilesOfAnInterleavedModelLeaveNothingOnItsManager(@TempDir Path folder) {
        LlamaConfig interleaved =
                new LlamaConfig(64, 128, 2, 4, 2, 256, 32, 10000.0, 1e-5, RopeStyle.INTERLEAVED, false, null);
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model =
                    new LlamaModel(interleaved, RandomInit.llama(interleaved, 5, DataType.FLOAT32, manager), manager);
            LoraAdapters dora = LoraAdapters.create(
                    new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("q_proj", "k_proj")), false, true, false),
                    model,
                    manager);
            assertStepsLeaveNothing(manager, () -> {
                try {
                    HfCheckpointWriter.write(folder.resolve("full"), interleaved, model.weights());
                    PeftAdapterFolder.save(folder.resolve("dora"), dora, model, "test");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static LlamaModel llama(NDManager manager) {
        return new LlamaModel(CONFIG, RandomInit.llama(CONFIG, 5, DataType.FLOAT32, manager), manager);
    }

    /** Forward, loss and backward in a scope of their own, as the trainer runs a micro-batch. */
    private static void train(CausalLm model, NDManager manager, boolean checkpointed) {
        int[][] tokens = RandomTokens.uniform(new Random(3), model.vocabSize(), 3, 16);
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray input = scope.create(tokens);
            Packing packing = Packing.unpacked(tokens.length, tokens[0].length);
            if (checkpointed) {
                model.checkpointedBackward(
                        input,
                        packing,
                        true,
                        logits -> CausalLmLoss.sum(logits, input).loss(),
                        collector);
            } else {
                collector.backward(CausalLmLoss.sum(model.forward(input, packing, true), input)
                        .loss());
            }
        }
    }

    /** A forward pass in evaluation mode, as eval-service scores a checkpoint. */
    private static void score(CausalLm model, NDManager manager) {
        int[][] tokens = RandomTokens.uniform(new Random(3), model.vocabSize(), 2, 12);
        try (NDManager scope = manager.newSubManager()) {
            NDArray input = scope.create(tokens);
            CausalLmLoss.sum(model.forward(input, Packing.unpacked(2, 12), false), input)
                    .loss()
                    .getFloat();
        }
    }

    private static void generate(CausalLm model, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            new Generator(model)
                    .generate(
                            List.of(new int[] {1, 5, 9}, new int[] {1, 7}),
                            GenerationConfig.greedy(6, Set.of()),
                            scope);
        }
    }

    /**
     * Two steps first (a first step may fill caches meant to live with the model: causal masks, RoPE tables, an
     * optimiser's moments), then three more, which must leave the manager's tensors as they were.
     */
    private static void assertStepsLeaveNothing(NDManager manager, Runnable step) {
        step.run();
        step.run();
        Map<String, Integer> before = census(manager);
        for (int i = 0; i < 3; i++) {
            step.run();
        }
        Map<String, Integer> grown = new TreeMap<>();
        census(manager).forEach((kind, count) -> {
            if (count != before.getOrDefault(kind, 0)) {
                grown.put(kind, count - before.getOrDefault(kind, 0));
            }
        });
        assertThat(grown)
                .as("tensors added to the model's manager by three more steps (shape dtype -> count)")
                .isEmpty();
    }

    private static Map<String, Integer> census(NDManager manager) {
        Map<String, Integer> census = new TreeMap<>();
        for (NDArray array : manager.getManagedArrays()) {
            census.merge(array.getShape() + " " + array.getDataType(), 1, Integer::sum);
        }
        return census;
    }
}
