package dev.streamtune.lm.jola;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.llama.HfLlamaCheckpoint;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JolaGatesTest {

    /** layers * (2 H hd + 2 H), from the published configs alone (no weights). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"olmo-2-1124-13b.json, 412800", "llama-3.1-8b.json, 264192", "olmo-2-0425-1b.json, 66048"})
    void trainableParameterCountsMatchThePaper(String config, long expected) throws Exception {
        LlamaConfig shape = HfLlamaCheckpoint.config(
                Path.of(getClass().getResource("/configs/" + config).toURI()));
        try (NDManager manager = Compute.newManager()) {
            JolaGates gates = new JolaGates(shape.layers(), shape.heads(), shape.headDim(), manager);

            assertThat(gates.trainableParameterCount()).isEqualTo(expected);
            assertThat(gates.parameters().stream()
                            .mapToLong(p -> p.getShape().size())
                            .sum())
                    .isEqualTo(expected);
        }
    }

    @Test
    void closedGatesLeaveTheModelExactlyAsItWas() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            LlamaModel model = stories(manager);
            LlamaConfig config = model.config();
            NDArray tokens = manager.create(new int[][] {{1, 403, 407, 261, 378, 432, 383, 286}});
            float[] base = model.forward(tokens).toFloatArray();
            JolaGates gates = new JolaGates(config.layers(), config.heads(), config.headDim(), manager);
            for (NDArray edit : gates.parameters()) {
                if (!edit.getName().contains("log_g")) {
                    edit.set(new NDIndex("..."), 0.5f); // large edits, so that an open gate shows
                }
            }
            model.setHeadEdits(gates);
            for (int layer = 0; layer < config.layers(); layer++) {
                gates.setLogAlphas(layer, 3f);
            }
            assertThat(model.forward(tokens).toFloatArray()).isNotEqualTo(base);

            for (int layer = 0; layer < config.layers(); layer++) {
                gates.setLogAlphas(layer, -2.3979f); // at or below ln(1/11) the evaluation gate is exactly 0
            }
            assertThat(model.forward(tokens).toFloatArray()).containsExactly(base);
        }
    }

    @Test
    void trainingGatesAreStochasticAndEvaluationGatesDeterministic() {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(3);
            HardConcrete hardConcrete = new HardConcrete(manager, DataType.FLOAT32);
            NDArray logAlpha = manager.create(new float[] {-3f, 0f, 3f}, new Shape(3, 1));

            float[] evaluation = hardConcrete.gate(logAlpha, false, manager).toFloatArray();
            assertThat(hardConcrete.gate(logAlpha, false, manager).toFloatArray())
                    .containsExactly(evaluation);
            assertThat(evaluation[0]).isZero();
            assertThat(evaluation[1]).isCloseTo((float) (0.5 * 1.2 - 0.1), within(1e-6f));
            assertThat(evaluation[2]).isEqualTo(1f); // sigmoid(3) * 1.2 - 0.1 > 1: clamped

            List<Float> draws = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                draws.add(hardConcrete.gate(logAlpha, true, manager).getFloat(1, 0));
            }
            assertThat(draws).allSatisfy(g -> assertThat(g).isBetween(0f, 1f));
            assertThat(draws.stream().distinct().count()).isGreaterThan(10);
        }
    }

    @Test
    void penaltiesFollowTheCodedAndTheBlogForms() {
        try (NDManager manager = Compute.newManager()) {
            JolaGates gates = new JolaGates(3, 4, 8, manager);
            for (int layer = 0; layer < 3; layer++) {
                gates.setLogAlphas(layer, 0.5f);
            }
            double p = 1 / (1 + Math.exp(-(0.5 + 0.791305))); // expected L0 = sigmoid(log_alpha + 0.791305)
            NDArray lambda = manager.create(0.3f);

            double coded =
                    gates.penalty(lambda, JolaGates.Penalty.CODED, manager).getFloat();
            double blog = gates.penalty(lambda, JolaGates.Penalty.BLOG, manager).getFloat();

            // coded: (0.3 * 3p + 0.7 * 3p) / (3 * 4) = p / 4
            assertThat(coded).isCloseTo(p / 4, within(1e-5));
            // blog: 0.3 * 3 layers * 4 heads * (1 - (1 - p)^2)
            assertThat(blog).isCloseTo(0.3 * 12 * (1 - (1 - p) * (1 - p)), within(1e-4));
        }
    }

    @Test
    void schedulesFollowTheTable() {
        GateSchedule expon = new GateSchedule(GateSchedule.Kind.EXPON, 100, 0);
        GateSchedule linear = new GateSchedule(GateSchedule.Kind.LINEAR, 100, 0);
        GateSchedule cyclic = new GateSchedule(GateSchedule.Kind.CYCLIC, 100, 0);
        GateSchedule perform = new GateSchedule(GateSchedule.Kind.PERFORM, 100, 0);
        GateSchedule fixed = new GateSchedule(GateSchedule.parse("none"), 100, 4e-5);
        assertThat(List.of(expon.lambda(), linear.lambda(), cyclic.lambda(), perform.lambda(), fixed.lambda()))
                .containsExactly(0.1, 0.0, 0.1, 0.1, 4e-5);
        double[] losses = {2.0, 1.5, 1.7, 1.2, 1.3};
        for (double loss : losses) {
            for (GateSchedule schedule : List.of(expon, linear, cyclic, perform, fixed)) {
                schedule.advance(loss);
            }
        }
        assertThat(expon.lambda()).isCloseTo(0.1 * Math.exp(-0.05), within(1e-12));
        assertThat(linear.lambda()).isCloseTo(0.2 * 5 / 100, within(1e-12));
        assertThat(cyclic.lambda()).isCloseTo(0.5 + 0.5 * Math.sin(2 * Math.PI * 5 / 20), within(1e-12));
        assertThat(perform.lambda()).isCloseTo(0.1 + 0.01 + 0.01 - 0.01 + 0.01 - 0.01, within(1e-12));
        assertThat(fixed.lambda()).isEqualTo(4e-5);
    }

    /** A continuous run trains past the length linear spans: its weight holds at 0.2 rather than growing on. */
    @Test
    void theLinearGateScheduleHoldsItsEndPastTheRunsLength() {
        GateSchedule linear = new GateSchedule(GateSchedule.Kind.LINEAR, 10, 0);
        for (int k = 0; k < 20; k++) {
            linear.advance(1.0);
        }
        assertThat(linear.lambda()).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void trainingTheGatesLowersTheLossAndLeavesTheBaseAlone() throws Exception {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(42);
            LlamaModel model = stories(manager);
            LlamaConfig config = model.config();
            float[] baseQuery = model.weights()
                    .asMap()
                    .get("model.layers.0.self_attn.q_proj.weight")
                    .toFloatArray();
            JolaGates gates = new JolaGates(config.layers(), config.heads(), config.headDim(), manager);
            model.setHeadEdits(gates);
            AdamW optimizer = new AdamW(gates.parameters(), gates.gateParameters(), 0.9, 0.999, 1e-8, 0.0, manager);
            GateSchedule schedule = new GateSchedule(GateSchedule.Kind.EXPON, 60, 0);
            // a sentence the model finds unlikely, repeated
            NDArray tokens = manager.create(
                    new int[][] {{1, 403, 407, 261, 378, 432, 296, 289, 356, 278, 401, 375, 432, 296, 289, 356}});

            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < 60; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    double crossEntropy;
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(tokens, true), tokens);
                        NDArray mean = sum.loss().div(scope.create((float) sum.tokens()));
                        NDArray lambda = scope.create((float) schedule.lambda());
                        collector.backward(mean.add(gates.penalty(lambda, JolaGates.Penalty.CODED, scope)));
                        crossEntropy = mean.getFloat();
                    }
                    schedule.advance(crossEntropy);
                    losses.add(crossEntropy);
                    optimizer.step(5e-2, 1.0);
                }
            }

            assertThat(schedule.computations()).isEqualTo(60);
            assertThat(losses.subList(55, 60).stream()
                            .mapToDouble(Double::doubleValue)
                            .average()
                            .orElseThrow())
                    .isLessThan(0.3 * losses.get(0)); // measured: 6.37 -> 0.59
            assertThat(model.weights()
                            .asMap()
                            .get("model.layers.0.self_attn.q_proj.weight")
                            .toFloatArray())
                    .containsExactly(baseQuery);
        }
    }

    private static LlamaModel stories(NDManager manager) throws Exception {
        Llama2cCheckpoint.Loaded loaded =
                Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
        return new LlamaModel(loaded.config(), loaded.weights(), manager);
    }
}
