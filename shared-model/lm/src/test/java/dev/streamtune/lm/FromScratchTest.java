package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.train.AdamW;
import dev.streamtune.lm.train.CausalLmLoss;
import dev.streamtune.lm.train.LearningRateSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A tiny Llama initialised from scratch starts at chance and overfits a small corpus. */
class FromScratchTest {

    private static final LlamaConfig CONFIG =
            new LlamaConfig(64, 128, 2, 4, 2, 64, 64, 10000.0, 1e-5, RopeStyle.HALF, true, null);

    @Test
    void theSameSeedGivesTheSameWeightsAndTheConventionsHold() {
        try (NDManager manager = Compute.newManager()) {
            LlamaWeights a = RandomInit.llama(CONFIG, 7, DataType.FLOAT32, manager);
            LlamaWeights b = RandomInit.llama(CONFIG, 7, DataType.FLOAT32, manager);
            LlamaWeights other = RandomInit.llama(CONFIG, 8, DataType.FLOAT32, manager);
            for (Map.Entry<String, NDArray> tensor : a.asMap().entrySet()) {
                assertThat(tensor.getValue().toFloatArray())
                        .as(tensor.getKey())
                        .isEqualTo(b.asMap().get(tensor.getKey()).toFloatArray());
            }
            assertThat(a.asMap().get("model.layers.0.self_attn.q_proj.weight").toFloatArray())
                    .isNotEqualTo(other.asMap()
                            .get("model.layers.0.self_attn.q_proj.weight")
                            .toFloatArray());
            assertThat(a.asMap()).doesNotContainKey("lm_head.weight"); // tied
            NDArray q = a.asMap().get("model.layers.1.self_attn.q_proj.weight");
            assertThat(q.mean().getFloat()).isCloseTo(0f, within(0.002f));
            assertThat((double) q.sub(q.mean()).pow(2).mean().sqrt().getFloat()).isCloseTo(0.02, within(0.001));
            assertThat(a.asMap().get("model.layers.0.input_layernorm.weight").toFloatArray())
                    .containsOnly(1f);
            new LlamaModel(CONFIG, a, manager); // every tensor the model needs, in its shape
        }
    }

    @Test
    void aRandomModelStartsAtChanceAndOverfitsASmallCorpus() {
        try (NDManager manager = Compute.newManager()) {
            Engine.getInstance().setRandomSeed(3);
            LlamaModel model = new LlamaModel(CONFIG, RandomInit.llama(CONFIG, 3, DataType.FLOAT32, manager), manager);
            int[][] corpus = new int[4][32];
            Random random = new Random(5);
            for (int[] row : corpus) {
                for (int t = 0; t < row.length; t++) {
                    row[t] = random.nextInt(CONFIG.vocabSize());
                }
            }
            List<NDArray> parameters = new ArrayList<>(model.weights().asMap().values());
            parameters.forEach(p -> p.setRequiresGradient(true));
            List<NDArray> norms = parameters.stream()
                    .filter(p -> p.getName().endsWith("norm.weight"))
                    .toList();
            AdamW optimizer = new AdamW(parameters, norms, 0.9, 0.95, 1e-8, 0.0, manager);
            LearningRateSchedule schedule = new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 1e-2, 10, 120);
            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < 120; step++) {
                try (NDManager scope = manager.newSubManager();
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray tokens = scope.create(corpus);
                    CausalLmLoss.Sum sum = CausalLmLoss.sum(model.forward(tokens, null, true), tokens);
                    collector.backward(sum.loss());
                    losses.add((double) sum.loss().getFloat() / sum.tokens());
                    optimizer.step(schedule.at(step), sum.tokens());
                }
            }
            // Random tokens carry no pattern: only memorising them lowers the loss below ln(vocab).
            assertThat(losses.get(0)).isCloseTo(Math.log(CONFIG.vocabSize()), within(0.15));
            assertThat(losses.get(119)).isLessThan(0.1 * losses.get(0));
        }
    }
}
