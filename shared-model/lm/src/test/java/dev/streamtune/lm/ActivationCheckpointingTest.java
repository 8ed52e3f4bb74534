package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.quant.FourBitType;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.CausalLmLoss;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Activation checkpointing recomputes each decoder layer in the backward pass: the gradients it leaves are those of
 * the ordinary backward pass, on the tiny float64 Llama, with packed rows, for LoRA, full fine-tuning (the tied or
 * untied embedding included) and LoRA over a 4-bit base.
 */
class ActivationCheckpointingTest {

    /** Two rows: the first packs a 5-token and a 4-token document, the second is one document. */
    private static final Packing PACKING = new Packing(new int[][] {{0, 5}, {0}}, new int[] {9, 9});

    @Test
    void loraGradientsEqualTheOrdinaryBackwardPass() {
        try (NDManager manager = Compute.newManager()) {
            TinyLlama tiny = new TinyLlama(3, manager);
            LlamaModel model = tiny.model();
            LoraAdapters lora = lora(model, tiny, manager);
            assertSameGradients(model, lora.parameters(), tiny.tokens(2, 9), manager);
        }
    }

    @Test
    void fullFineTuningGradientsEqualTheOrdinaryBackwardPass() {
        try (NDManager manager = Compute.newManager()) {
            TinyLlama tiny = new TinyLlama(4, manager);
            LlamaModel model = tiny.model();
            List<NDArray> all = new ArrayList<>(model.weights().asMap().values());
            all.forEach(weight -> weight.setRequiresGradient(true));
            assertSameGradients(model, all, tiny.tokens(2, 9), manager);
        }
    }

    @Test
    void qloraGradientsEqualTheOrdinaryBackwardPass() {
        try (NDManager manager = Compute.newManager()) {
            TinyLlama tiny = new TinyLlama(5, manager);
            LlamaModel model = tiny.model();
            model.quantize(FourBitType.NF4, true);
            LoraAdapters lora = lora(model, tiny, manager);
            assertSameGradients(model, lora.parameters(), tiny.tokens(2, 9), manager);
        }
    }

    private static LoraAdapters lora(LlamaModel model, TinyLlama tiny, NDManager manager) {
        Map<String, LoraWeights> pairs = tiny.loraPairs(model, model.linearModules(), 2);
        LoraAdapters lora =
                new LoraAdapters(new LoraSpec(2, 4, 0.0, TargetModules.of(".*"), false), pairs, manager, true);
        model.setAdapters(lora);
        return lora;
    }

    private static void assertSameGradients(
            LlamaModel model, List<NDArray> parameters, int[][] tokens, NDManager manager) {
        double ordinaryLoss;
        double checkpointedLoss;
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray batch = scope.create(tokens);
            NDArray loss =
                    CausalLmLoss.sum(model.forward(batch, PACKING, true), batch).loss();
            collector.backward(loss);
            ordinaryLoss = loss.getDouble();
        }
        List<double[]> ordinary = FiniteDifferences.takeGradients(parameters);
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray batch = scope.create(tokens);
            NDArray[] loss = new NDArray[1];
            model.checkpointedBackward(
                    batch,
                    PACKING,
                    true,
                    logits -> loss[0] = CausalLmLoss.sum(logits, batch).loss(),
                    collector);
            checkpointedLoss = loss[0].getDouble();
        }
        List<double[]> checkpointed = FiniteDifferences.takeGradients(parameters);
        assertThat(checkpointedLoss).isEqualTo(ordinaryLoss);
        double largest = 0;
        for (int p = 0; p < parameters.size(); p++) {
            double[] expected = ordinary.get(p);
            double[] actual = checkpointed.get(p);
            for (int i = 0; i < expected.length; i++) {
                assertThat(Math.abs(actual[i] - expected[i]))
                        .as("%s[%d]: %s against %s", parameters.get(p).getName(), i, actual[i], expected[i])
                        .isLessThan(1e-12 + 1e-10 * Math.abs(expected[i]));
                largest = Math.max(largest, Math.abs(expected[i]));
            }
        }
        assertThat(largest).as("there are gradients to compare").isGreaterThan(1e-3);
    }
}
