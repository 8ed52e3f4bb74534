package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.lm.train.Gradients;
import dev.streamtune.lm.train.LearningRateSchedule;
import dev.streamtune.testing.SharedData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptimisationTest {

    @Test
    void schedulesWarmUpThenDecayAsHuggingFaceDoes() {
        LearningRateSchedule cosine = new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 1e-3, 10, 110);
        LearningRateSchedule linear =
                LearningRateSchedule.withWarmupRatio(LearningRateSchedule.Kind.LINEAR, 2e-4, 0.1, 95);
        LearningRateSchedule constant =
                new LearningRateSchedule(LearningRateSchedule.Kind.CONSTANT_WITH_WARMUP, 5e-3, 50, 300);

        assertThat(cosine.at(0)).isZero();
        assertThat(cosine.at(5)).isCloseTo(5e-4, within(1e-12));
        assertThat(cosine.at(10)).isCloseTo(1e-3, within(1e-12));
        assertThat(cosine.at(60)).isCloseTo(5e-4, within(1e-12)); // half way through the decay: cos(pi/2) = 0
        assertThat(cosine.at(110)).isCloseTo(0, within(1e-12));
        assertThat(linear.warmupSteps()).isEqualTo(10); // ceil(0.1 * 95)
        assertThat(linear.at(10 + 85 / 2)).isCloseTo(2e-4 * (1 - 42.0 / 85), within(1e-12));
        assertThat(constant.at(25)).isCloseTo(2.5e-3, within(1e-12));
        assertThat(constant.at(299)).isEqualTo(5e-3);
    }

    @Test
    void clippingBoundsTheGlobalNorm() {
        try (NDManager manager = Compute.newManager()) {
            NDArray a = manager.create(new float[] {1f, 2f});
            NDArray b = manager.create(new float[] {2f});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(a.mul(manager.create(new float[] {3f, 4f}))
                        .sum()
                        .add(b.mul(manager.create(12f)).sum()));
            }
            List<NDArray> parameters = List.of(a, b);

            double before = Gradients.clipGlobalNorm(parameters, 1.0); // gradients (3, 4) and (12): norm 13

            assertThat(before).isCloseTo(13.0, within(1e-5));
            assertThat(Gradients.globalNorm(parameters)).isCloseTo(1.0, within(1e-5));
            assertThat(a.getGradient().toFloatArray()).containsExactly(new float[] {3f / 13, 4f / 13}, within(1e-6f));
        }
    }

    /**
     * Accumulating summed losses over micro-batches and dividing by the step's trainable tokens gives exactly the
     * gradient of one big batch; averaging per-micro-batch means, the classic mistake, does not when the micro-batches
     * hold different numbers of trainable tokens. Checked in float64.
     */
    @Test
    void accumulationNormalisesOverTheTrainableTokensOfTheWholeStep() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(5);
            Llama2cCheckpoint.Loaded loaded =
                    Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
            LlamaWeights weights = new LlamaWeights();
            loaded.weights()
                    .asMap()
                    .forEach((name, tensor) -> weights.put(name, tensor.toType(DataType.FLOAT64, true)));
            LlamaModel model = new LlamaModel(loaded.config(), weights, manager);
            Map<String, Shape> modules = new LinkedHashMap<>();
            model.linearModules()
                    .forEach(m ->
                            modules.put(m, weights.asMap().get(m + ".weight").getShape()));
            LoraAdapters lora = new LoraAdapters(
                    new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("q_proj", "v_proj")), false),
                    modules,
                    DataType.FLOAT64,
                    manager);
            for (LoraWeights pair : lora.weights().values()) {
                pair.b()
                        .addi(manager.randomNormal(0f, 0.02f, pair.b().getShape(), DataType.FLOAT32)
                                .toType(DataType.FLOAT64, false));
            }
            model.setAdapters(lora);
            int[][] tokens = {{1, 403, 407, 261, 378, 432, 383, 286}, {1, 376, 298, 315, 421, 395, 317, 426}};
            int[][] labels = {{1, 403, 407, 261, 378, 432, 383, 286}, {-100, -100, -100, -100, -100, 395, 317, 426}};

            long total = backward(model, manager, tokens, labels);
            double[] oneBatch = gradients(lora);
            Gradients.scale(lora.parameters(), 0.0);

            long first = backward(model, manager, new int[][] {tokens[0]}, new int[][] {labels[0]});
            double[] afterFirst = gradients(lora);
            long second = backward(model, manager, new int[][] {tokens[1]}, new int[][] {labels[1]});
            double[] accumulated = gradients(lora);

            assertThat(first + second).isEqualTo(total).isEqualTo(7 + 3);
            double worst = 0;
            double mistake = 0;
            for (int i = 0; i < oneBatch.length; i++) {
                worst = Math.max(worst, Math.abs(accumulated[i] / total - oneBatch[i] / total));
                double meanOfMeans = (afterFirst[i] / first + (accumulated[i] - afterFirst[i]) / second) / 2;
                mistake = Math.max(mistake, Math.abs(meanOfMeans - oneBatch[i] / total));
            }
            assertThat(worst).isLessThan(1e-12);
            assertThat(mistake).as("averaging micro-batch means differs").isGreaterThan(1e-6);
        }
    }

    /** Forward and backward of the summed loss; returns the number of trainable tokens. */
    private static long backward(LlamaModel model, NDManager manager, int[][] tokens, int[][] labels) {
        try (NDManager scope = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(scope.create(tokens), true), scope.create(labels));
            collector.backward(sum.loss());
            return sum.tokens();
        }
    }

    private static double[] gradients(LoraAdapters lora) {
        List<Double> values = new ArrayList<>();
        for (NDArray parameter : lora.parameters()) {
            try (NDArray gradient = parameter.getGradient()) {
                for (double value : gradient.toDoubleArray()) {
                    values.add(value);
                }
            }
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void biasesNormsAndGatesAreExemptFromWeightDecayByName() {
        try (NDManager manager = Compute.newManager()) {
            List<NDArray> parameters = new ArrayList<>();
            for (String name : List.of(
                    "model.layers.0.input_layernorm.weight",
                    "model.norm.weight",
                    "model.layers.0.self_attn.q_proj.bias",
                    "model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.log_g1",
                    "model.layers.0.self_attn.attn_A",
                    "h.0.ln_1.weight")) {
                NDArray parameter = manager.zeros(new Shape(1));
                parameter.setName(name);
                parameters.add(parameter);
            }
            assertThat(AdamW.exemptFromDecay(parameters))
                    .extracting(NDArray::getName)
                    .containsExactly(
                            "model.layers.0.input_layernorm.weight",
                            "model.norm.weight",
                            "model.layers.0.self_attn.q_proj.bias",
                            "model.layers.0.self_attn.log_g1",
                            "h.0.ln_1.weight");
        }
    }
}
