package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.generate.Generator;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real stories260K model through the llama2.c loader and the Llama forward pass, against its float64 reference. */
class Stories260kForwardTest {

    private static NDManager manager;
    private static LlamaModel model;
    private static Stories260kReference reference;

    @BeforeAll
    static void load() throws Exception {
        Path checkpoint = SharedData.require("models/stories260K/stories260K.bin");
        reference = Stories260kReference.read(SharedData.require("models/stories260K/REFERENCE.md"));
        manager = Compute.newManager();
        Llama2cCheckpoint.Loaded loaded = Llama2cCheckpoint.read(checkpoint, manager);
        model = new LlamaModel(loaded.config(), loaded.weights(), manager);
    }

    @AfterAll
    static void close() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void readsTheHeader() {
        assertThat(model.config().hiddenSize()).isEqualTo(64);
        assertThat(model.config().layers()).isEqualTo(5);
        assertThat(model.config().heads()).isEqualTo(8);
        assertThat(model.config().kvHeads()).isEqualTo(4);
        assertThat(model.config().vocabSize()).isEqualTo(512);
        assertThat(model.config().tiedEmbeddings()).isTrue();
    }

    @Test
    void teacherForcedLogitsMatchTheFloat64Reference() {
        try (NDManager scope = manager.newSubManager()) {
            int[] input = reference.forcedInput();
            NDArray logits = model.forward(scope.create(input, new Shape(1, input.length)))
                    .get(new NDIndex("0"));

            float[] first = logits.get(new NDIndex("0, 0:" + reference.firstLogits().length))
                    .toFloatArray();
            for (int i = 0; i < first.length; i++) {
                assertThat(first[i]).as("logits[0][%d]", i).isCloseTo(reference.firstLogits()[i], within(1e-3f));
            }
            long[] argmax = logits.argMax(-1).toLongArray();
            for (int t = 0; t < argmax.length; t++) {
                assertThat(argmax[t]).as("argmax at %d", t).isEqualTo(reference.argmax()[t]);
            }
            NDArray last = logits.get(new NDIndex("-1"));
            for (int i = 0; i < reference.topIds().length; i++) {
                assertThat(last.getFloat(reference.topIds()[i]))
                        .as("last logit of %d", reference.topIds()[i])
                        .isCloseTo(reference.topValues()[i], within(1e-3f));
            }
            NDArray logProbs = logits.logSoftmax(-1);
            double nll = 0;
            for (int t = 0; t + 1 < input.length; t++) {
                nll -= logProbs.getFloat(t, input[t + 1]);
            }
            assertThat(nll / (input.length - 1)).isCloseTo(reference.meanNll(), within(1e-4));
        }
    }

    @Test
    void greedyDecodingFromBosReproducesTheReferenceTokens() {
        int[] expected = reference.greedyIds();

        Generator.Completion completion = new Generator(model)
                .generate(new int[] {1}, GenerationConfig.greedy(expected.length, Set.of()), manager);

        assertThat(completion.tokens()).containsExactly(expected);
        assertThat(completion.finish()).isEqualTo(Generator.Finish.MAX_NEW_TOKENS);
    }
}
