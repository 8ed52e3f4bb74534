package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.llama.LlamaConfig;
import dev.streamtune.lm.llama.ModelFamily;
import dev.streamtune.lm.llama.RopeStyle;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.lm.runtime.Precision;
import dev.streamtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * A model's parameter count from its configuration alone (what a memory budget is checked against before anything
 * is allocated) against the weights the real checkpoints load.
 */
class ParameterCountTest {

    @Test
    void theCountFromTheConfigurationIsWhatTheRealCheckpointsLoad() throws Exception {
        for (String model : new String[] {"models/stories260K/stories260K.bin", "models/tiny-gpt2"}) {
            ModelSource source = ModelSource.at(SharedData.require(model));
            try (NDManager manager = Compute.newManager()) {
                CausalLm loaded = source.load(0, Precision.FLOAT32, manager);
                long weights =
                        loaded.allWeights().stream().mapToLong(NDArray::size).sum();
                assertThat(source.parameters()).as(model).isEqualTo(weights);
            }
        }
    }

    @Test
    void aLargeModelIsCountedWithoutBeingBuilt() {
        // Llama-2-7B's shape: 6,738,415,616 parameters as transformers counts them.
        LlamaConfig llama2 =
                new LlamaConfig(4096, 11008, 32, 32, 32, 32000, 4096, 10000, 1e-5, RopeStyle.HALF, false, null);
        assertThat(llama2.parameters()).isEqualTo(6_738_415_616L);
        assertThat(llama2.family()).isEqualTo(ModelFamily.LLAMA);
    }
}
