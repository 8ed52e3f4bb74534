package dev.streamtune.lm;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.streamtune.lm.attention.KvCache;
import dev.streamtune.lm.attention.Packing;
import dev.streamtune.lm.generate.GenerationConfig;
import dev.streamtune.lm.generate.Generator;
import dev.streamtune.lm.gpt2.Gpt2Model;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Packed rows and the key/value cache compute exactly what separate, uncached sequences compute, on the real
 * stories260K (Llama, RoPE) and tiny-gpt2 (learned positions).
 */
class AttentionLayoutTest {

    static Stream<Arguments> models() {
        Function<NDManager, CausalLm> stories = manager -> {
            try {
                Llama2cCheckpoint.Loaded loaded =
                        Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
                return new LlamaModel(loaded.config(), loaded.weights(), manager);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        Function<NDManager, CausalLm> gpt2 = manager -> {
            try {
                return Gpt2Model.read(SharedData.require("models/tiny-gpt2"), manager);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        return Stream.of(Arguments.of("stories260K", stories), Arguments.of("tiny-gpt2", gpt2));
    }

    /**
     * Float32 round-off: the same arithmetic over differently shaped matrices sums in another order, and on
     * stories260K's logits (up to ~17) that moves the last bits by ~1.2e-5. A mask or position error moves them by
     * more than 1e-3 (asserted below).
     */
    private static final double TOLERANCE = 5e-5;

    private static final int[] FIRST = {1, 403, 261, 370, 297, 410, 285};
    private static final int[] SECOND = {1, 79, 323, 354, 296};

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void aPackedRowEqualsItsDocumentsRunOneByOne(String name, Function<NDManager, CausalLm> load) {
        try (NDManager manager = Compute.newManager()) {
            CausalLm model = load.apply(manager);
            int time = FIRST.length + SECOND.length + 3; // then three padding tokens
            int[] row = new int[time];
            System.arraycopy(FIRST, 0, row, 0, FIRST.length);
            System.arraycopy(SECOND, 0, row, FIRST.length, SECOND.length);
            row[time - 3] = row[time - 2] = row[time - 1] = 0;
            Packing packing = new Packing(new int[][] {{0, FIRST.length}}, new int[] {FIRST.length + SECOND.length});
            assertThat(packing.positionIds(time)[0]).startsWith(0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4);

            float[] packed = model.forward(manager.create(new int[][] {row}), packing, false)
                    .toFloatArray();
            float[] first = model.forward(manager.create(new int[][] {FIRST}), null, false)
                    .toFloatArray();
            float[] second = model.forward(manager.create(new int[][] {SECOND}), null, false)
                    .toFloatArray();

            int vocab = model.vocabSize();
            assertThat(maxDifference(packed, 0, first, 0, FIRST.length * vocab)).isLessThan(TOLERANCE);
            assertThat(maxDifference(packed, FIRST.length * vocab, second, 0, SECOND.length * vocab))
                    .isLessThan(TOLERANCE);
            for (float value : packed) {
                assertThat(Float.isFinite(value))
                        .as("padding keeps every logit finite")
                        .isTrue();
            }
            // Without the block-diagonal mask the second document would see the first: the test can tell.
            float[] unpacked = model.forward(manager.create(new int[][] {row}), null, false)
                    .toFloatArray();
            assertThat(maxDifference(unpacked, FIRST.length * vocab, second, 0, SECOND.length * vocab))
                    .isGreaterThan(1e-3);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void cachedStepsGiveTheLogitsOfTheWholeSequence(String name, Function<NDManager, CausalLm> load) {
        try (NDManager manager = Compute.newManager()) {
            CausalLm model = load.apply(manager);
            int vocab = model.vocabSize();
            float[] whole = model.forward(manager.create(new int[][] {FIRST}), null, false)
                    .toFloatArray();
            try (KvCache cache = new KvCache(model.layers(), new int[] {0}, manager)) {
                int prompt = 3;
                float[] prefix = model.forward(manager.create(new int[][] {Arrays.copyOf(FIRST, prompt)}), cache)
                        .toFloatArray();
                assertThat(maxDifference(prefix, 0, whole, 0, prompt * vocab)).isLessThan(TOLERANCE);
                for (int t = prompt; t < FIRST.length; t++) {
                    float[] step = model.forward(manager.create(new int[][] {{FIRST[t]}}), cache)
                            .toFloatArray();
                    assertThat(maxDifference(step, 0, whole, t * vocab, vocab))
                            .as("position %d", t)
                            .isLessThan(TOLERANCE);
                }
                assertThat(cache.length()).isEqualTo(FIRST.length);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void aLeftPaddedBatchGeneratesWhatEachPromptGeneratesAlone(String name, Function<NDManager, CausalLm> load) {
        try (NDManager manager = Compute.newManager()) {
            CausalLm model = load.apply(manager);
            Generator generator = new Generator(model);
            GenerationConfig greedy = GenerationConfig.greedy(12, Set.of());
            List<Generator.Completion> batch = generator.generate(List.of(FIRST, SECOND), greedy, manager);
            assertThat(batch.get(0).tokens())
                    .containsExactly(generator.generate(FIRST, greedy, manager).tokens());
            assertThat(batch.get(1).tokens())
                    .containsExactly(generator.generate(SECOND, greedy, manager).tokens());

            // Cached greedy decoding takes the same path as recomputing the whole sequence at every step.
            int[] sequence = Arrays.copyOf(SECOND, SECOND.length + 12);
            for (int t = SECOND.length; t < sequence.length; t++) {
                try (NDManager step = manager.newSubManager()) {
                    NDArray logits = model.forward(step.create(new int[][] {Arrays.copyOf(sequence, t)}), null, false);
                    sequence[t] =
                            (int) logits.get(new NDIndex("0, -1")).argMax().getLong();
                }
            }
            assertThat(batch.get(1).tokens())
                    .containsExactly(Arrays.copyOfRange(sequence, SECOND.length, sequence.length));
        }
    }

    private static double maxDifference(float[] a, int aFrom, float[] b, int bFrom, int count) {
        double worst = 0;
        for (int i = 0; i < count; i++) {
            worst = Math.max(worst, Math.abs(a[aFrom + i] - b[bFrom + i]));
        }
        return worst;
    }
}
