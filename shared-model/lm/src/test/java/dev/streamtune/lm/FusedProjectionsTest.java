package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.llama.LlamaWeights;
import dev.streamtune.lm.llama.RandomInit;
import dev.streamtune.lm.llama.RopeStyle;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The model multiplies q/k/v (and gate/up) as one product on concatenated weights when every module of the group
 * has a bias or none has, and module by module otherwise: both give the same logits. A q bias alone takes the
 * separate path; the same model with zero k and v biases added takes the fused one.
 */
class FusedProjectionsTest {

    private static final LlamaConfig CONFIG =
            new LlamaConfig(16, 24, 2, 4, 2, 32, 16, 10000.0, 1e-6, RopeStyle.HALF, true, null);

    @Test
    void aGroupWithSomeBiasesGivesWhatTheFusedProductGives() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            LlamaWeights separate = RandomInit.llama(CONFIG, 3, DataType.FLOAT64, manager);
            LlamaWeights fused = RandomInit.llama(CONFIG, 3, DataType.FLOAT64, manager);
            for (int layer = 0; layer < CONFIG.layers(); layer++) {
                NDArray bias = manager.randomNormal(new Shape(CONFIG.hiddenSize()), DataType.FLOAT64);
                separate.put(name(layer, "self_attn.q_proj.bias"), bias);
                fused.put(name(layer, "self_attn.q_proj.bias"), bias);
                fused.put(
                        name(layer, "self_attn.k_proj.bias"),
                        manager.zeros(new Shape(CONFIG.kvDim()), DataType.FLOAT64));
                fused.put(
                        name(layer, "self_attn.v_proj.bias"),
                        manager.zeros(new Shape(CONFIG.kvDim()), DataType.FLOAT64));
            }
            NDArray tokens = manager.create(new int[][] {{1, 5, 9, 2, 7, 30}, {3, 3, 8, 0, 11, 4}});
            double[] viaSeparate =
                    new LlamaModel(CONFIG, separate, manager).forward(tokens).toDoubleArray();
            double[] viaFused =
                    new LlamaModel(CONFIG, fused, manager).forward(tokens).toDoubleArray();
            double[] withoutBias = new LlamaModel(
                            CONFIG, RandomInit.llama(CONFIG, 3, DataType.FLOAT64, manager), manager)
                    .forward(tokens)
                    .toDoubleArray();
            assertThat(viaSeparate).hasSize(2 * 6 * CONFIG.vocabSize()).isNotEqualTo(withoutBias); // the bias counts
            for (int i = 0; i < viaSeparate.length; i++) {
                assertThat(viaFused[i]).isCloseTo(viaSeparate[i], Assertions.within(1e-12));
            }
        }
    }

    private static String name(int layer, String tensor) {
        return "model.layers." + layer + "." + tensor;
    }
}
