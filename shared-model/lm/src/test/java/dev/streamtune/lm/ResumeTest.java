package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.lm.train.Gradients;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.lm.train.TrainingCheckpoint;
import dev.streamtune.lm.train.TrainingRandomness;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save at step k, restore into a fresh process state, continue: the losses equal the uninterrupted run's exactly,
 * with the randomness that training draws (LoRA dropout, JoLA's gate noise), a warmup-cosine schedule and clipping.
 */
class ResumeTest {

    private static final long SEED = 1234;
    private static final int STEPS = 6;
    private static final int SAVE_AT = 3;
    private static final LearningRateSchedule SCHEDULE =
            new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 5e-3, 2, STEPS);
    private static final int[][] BATCH = {
        {1, 403, 261, 370, 297, 410, 285, 79, 323, 354, 296, 261, 370, 297},
        {1, 79, 323, 354, 296, 403, 261, 370, 297, 410, 285, 261, 402, 297}
    };

    @TempDir
    Path folder;

    /** A method under test: builds its trainable tensors on a loaded model. */
    interface Method {
        List<NDArray> install(LlamaModel model, NDManager manager);
    }

    private static final Method LORA_WITH_DROPOUT = (model, manager) -> {
        LoraAdapters lora = LoraAdapters.create(
                new LoraSpec(4, 8, 0.1, TargetModules.of("all-linear"), false), model.linearWeights(), manager);
        model.setAdapters(lora);
        return lora.parameters();
    };

    private static final Method JOLA = (model, manager) -> {
        JolaGates jola = new JolaGates(
                model.config().layers(), model.config().heads(), model.config().headDim(), manager);
        model.setHeadEdits(jola);
        return jola.parameters();
    };

    @Test
    void loraWithDropoutResumesExactly() throws Exception {
        assertResumesExactly(LORA_WITH_DROPOUT);
    }

    @Test
    void jolaWithStochasticGatesResumesExactly() throws Exception {
        assertResumesExactly(JOLA);
    }

    private void assertResumesExactly(Method method) throws Exception {
        List<Double> uninterrupted;
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            LlamaModel model = load(manager);
            List<NDArray> trainable = method.install(model, manager);
            AdamW optimizer = new AdamW(trainable, List.of(), 0.9, 0.999, 1e-8, 0.01, manager);
            uninterrupted = train(model, trainable, optimizer, 0, STEPS, manager);
        }

        List<Double> resumed = new ArrayList<>();
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(1);
            LlamaModel model = load(manager);
            List<NDArray> trainable = method.install(model, manager);
            AdamW optimizer = new AdamW(trainable, List.of(), 0.9, 0.999, 1e-8, 0.01, manager);
            resumed.addAll(train(model, trainable, optimizer, 0, SAVE_AT, manager));
            TrainingCheckpoint.save(folder, new TrainingCheckpoint.State(SAVE_AT, SEED), trainable, optimizer);
        }
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(99); // different initial adapters: the restore must replace them
            LlamaModel model = load(manager);
            List<NDArray> trainable = method.install(model, manager);
            AdamW optimizer = new AdamW(trainable, List.of(), 0.9, 0.999, 1e-8, 0.01, manager);
            TrainingCheckpoint.State state = TrainingCheckpoint.restore(folder, trainable, optimizer, manager);
            assertThat(state).isEqualTo(new TrainingCheckpoint.State(SAVE_AT, SEED));
            assertThat(optimizer.steps()).isEqualTo(SAVE_AT);
            resumed.addAll(train(model, trainable, optimizer, state.globalStep(), STEPS, manager));
        }

        assertThat(resumed).containsExactlyElementsOf(uninterrupted);
        assertThat(uninterrupted.get(STEPS - 1)).isLessThan(uninterrupted.get(0)); // it is training, not standing still
    }

    private static List<Double> train(
            LlamaModel model, List<NDArray> trainable, AdamW optimizer, long from, long to, NDManager manager) {
        List<Double> losses = new ArrayList<>();
        for (long step = from; step < to; step++) {
            TrainingRandomness.beginStep(SEED, step);
            try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray tokens = scope.create(BATCH);
                CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(tokens, null, true), tokens);
                collector.backward(sum.loss());
                losses.add((double) sum.loss().getFloat() / sum.tokens());
                Gradients.scale(trainable, 1.0 / sum.tokens());
            }
            Gradients.clipGlobalNorm(trainable, 1.0);
            optimizer.step(SCHEDULE.at(step), 1.0);
        }
        return losses;
    }

    private static LlamaModel load(NDManager manager) throws Exception {
        Llama2cCheckpoint.Loaded loaded =
                Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
        return new LlamaModel(loaded.config(), loaded.weights(), manager);
    }
}
