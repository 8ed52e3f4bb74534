package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.lm.adapters.LoraAdapters;
import dev.streamtune.lm.adapters.LoraSpec;
import dev.streamtune.lm.adapters.LoraWeights;
import dev.streamtune.lm.jola.JolaGates;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.CausalLmLoss;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gradients autograd computes through the model and each fine-tuning method equal central finite differences of
 * the loss, on a tiny float64 Llama (grouped-query attention, two layers) where differences are exact to ~1e-10.
 */
class GradientCheckTest {

    private static final LlamaConfig CONFIG = TinyLlama.CONFIG;

    private NDManager manager;
    private TinyLlama tiny;
    private LlamaModel model;
    private int[][] tokens;

    @BeforeEach
    void tinyFloat64Model() {
        manager = Compute.newManager();
        Engine.getInstance().setRandomSeed(11);
        tiny = new TinyLlama(7, manager);
        model = tiny.model();
        tokens = tiny.tokens(2, 9);
    }

    @AfterEach
    void free() {
        manager.close();
    }

    @Test
    void loraAAndB() {
        Map<String, LoraWeights> pairs =
                tiny.loraPairs(model, List.of("model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj"), 4);
        LoraAdapters lora = new LoraAdapters(
                new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("q_proj", "down_proj")), false), pairs, manager, true);
        model.setAdapters(lora);
        FiniteDifferences.check(lora.parameters(), this::loss, manager);
        assertBaseFrozen();
    }

    @Test
    void doraMagnitude() {
        Map<String, NDArray> linear = model.linearWeights();
        LoraAdapters dora = LoraAdapters.create(
                new LoraSpec(4, 8, 0.0, TargetModules.of(List.of("v_proj", "up_proj")), false, true, false),
                linear,
                manager);
        // Move B and m off their initial values so that the rescaling is not the identity.
        withoutRecording(() -> dora.weights().values().forEach(pair -> {
            pair.b().set(new NDIndex("..."), gaussian(pair.b().getShape(), 0.3));
            pair.magnitude()
                    .set(
                            new NDIndex("..."),
                            pair.magnitude()
                                    .mul(gaussian(pair.magnitude().getShape(), 0.2)
                                            .add(1.0)));
        }));
        model.setAdapters(dora);
        // A and B are not checked: DoRA treats the row norm n as a constant, so its gradient in A and B is by design
        // not the derivative of the loss; m enters only through m / n.
        FiniteDifferences.check(
                dora.weights().values().stream().map(LoraWeights::magnitude).toList(), this::loss, manager);
        assertBaseFrozen();
    }

    @Test
    void jolaEditsAndGateLogAlphasInEvaluationMode() {
        JolaGates jola = new JolaGates(CONFIG.layers(), CONFIG.heads(), CONFIG.headDim(), DataType.FLOAT64, manager);
        // Edits large enough to matter; log-alphas inside the gates' unclamped range (|log_alpha| < 1.1 at init).
        withoutRecording(() -> jola.parameters().forEach(p -> {
            if (!jola.gateParameters().contains(p)) {
                p.set(new NDIndex("..."), gaussian(p.getShape(), 0.5));
            }
        }));
        model.setHeadEdits(jola);
        NDArray lambda = manager.create(0.3);
        Supplier<NDArray> withPenalty = () -> {
            NDArray loss = loss();
            return loss.add(jola.penalty(lambda, JolaGates.Penalty.CODED, loss.getManager()));
        };
        FiniteDifferences.check(jola.parameters(), withPenalty, manager);
        assertBaseFrozen();
    }

    /** Mean next-token cross-entropy of the fixed batch, in float64, on the calling scope. */
    private NDArray loss() {
        NDArray batch = manager.create(tokens);
        CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(batch, null, false), batch);
        return sum.loss().div(manager.create((double) sum.tokens()));
    }

    private void assertBaseFrozen() {
        for (NDArray weight : model.weights().asMap().values()) {
            assertThat(weight.hasGradient())
                    .as("base tensor %s is frozen", weight.getName())
                    .isFalse();
        }
    }

    private static void withoutRecording(Runnable action) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            action.run();
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    private NDArray gaussian(Shape shape, double scale) {
        return tiny.gaussian(shape, scale);
    }
}
