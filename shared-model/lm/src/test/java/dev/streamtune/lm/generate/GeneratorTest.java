package dev.streamtune.lm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.streamtune.lm.llama.Llama2cCheckpoint;
import dev.streamtune.lm.llama.LlamaModel;
import dev.streamtune.lm.runtime.Compute;
import dev.streamtune.testing.SharedData;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation on the real stories260K: stopping rules, seeded sampling, and the context limit. */
class GeneratorTest {

    private static final int[] PROMPT = {1, 403, 261, 370};
    private static NDManager manager;
    private static Generator generator;
    private static int maxPositions;

    @BeforeAll
    static void load() throws Exception {
        manager = Compute.newManager();
        Llama2cCheckpoint.Loaded loaded =
                Llama2cCheckpoint.read(SharedData.require("models/stories260K/stories260K.bin"), manager);
        LlamaModel model = new LlamaModel(loaded.config(), loaded.weights(), manager);
        generator = new Generator(model);
        maxPositions = model.maxPositions();
    }

    @AfterAll
    static void close() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void stopsAtTheFirstStopTokenAndKeepsIt() {
        int[] free = generator
                .generate(PROMPT, GenerationConfig.greedy(40, Set.of()), manager)
                .tokens();
        int stop = free[6];
        int first = Arrays.stream(free).boxed().toList().indexOf(stop);

        Generator.Completion completion =
                generator.generate(PROMPT, GenerationConfig.greedy(40, Set.of(stop, 511)), manager);

        assertThat(completion.finish()).isEqualTo(Generator.Finish.STOP_TOKEN);
        assertThat(completion.tokens()).containsExactly(Arrays.copyOf(free, first + 1));
    }

    @Test
    void stopsAtTheFirstStopSequenceAndKeepsIt() {
        int[] free = generator
                .generate(PROMPT, GenerationConfig.greedy(40, Set.of()), manager)
                .tokens();
        int[] sequence = Arrays.copyOfRange(free, 5, 7);
        int end = -1;
        for (int i = 1; i < free.length && end < 0; i++) {
            if (free[i - 1] == sequence[0] && free[i] == sequence[1]) {
                end = i + 1;
            }
        }

        Generator.Completion completion = generator.generate(
                PROMPT,
                new GenerationConfig(40, 0, 0, 1, 1, Set.of(), 0, List.of(sequence, new int[] {511, 511, 511})),
                manager);

        assertThat(completion.finish()).isEqualTo(Generator.Finish.STOP_TOKEN);
        assertThat(completion.tokens()).containsExactly(Arrays.copyOf(free, end));
    }

    @Test
    void samplingIsReproducibleForASeedAndVariesAcrossSeeds() {
        GenerationConfig seeded = new GenerationConfig(30, 1.0, 50, 0.95, 1.1, Set.of(), 17);
        int[] first = generator.generate(PROMPT, seeded, manager).tokens();
        int[] again = generator.generate(PROMPT, seeded, manager).tokens();
        int[] other = generator
                .generate(PROMPT, new GenerationConfig(30, 1.0, 50, 0.95, 1.1, Set.of(), 18), manager)
                .tokens();

        assertThat(again).containsExactly(first);
        assertThat(other).isNotEqualTo(first);
        assertThat(first).hasSize(30);
    }

    @Test
    void stopsWhenTheContextIsFull() {
        int[] prompt = new int[maxPositions - 3];
        Arrays.fill(prompt, 261);
        prompt[0] = 1;
        Generator.Completion completion = generator.generate(prompt, GenerationConfig.greedy(10, Set.of()), manager);

        assertThat(completion.finish()).isEqualTo(Generator.Finish.CONTEXT_FULL);
        assertThat(prompt.length + completion.tokens().length).isEqualTo(maxPositions);
    }

    @Test
    void aMaxNewTokensFarPastTheContextGeneratesUntilTheContextIsFull() {
        Generator.Completion completion = generator.generate(
                PROMPT, GenerationConfig.greedy(Integer.MAX_VALUE - PROMPT.length + 1, Set.of()), manager);

        assertThat(completion.finish()).isEqualTo(Generator.Finish.CONTEXT_FULL);
        assertThat(PROMPT.length + completion.tokens().length).isEqualTo(maxPositions);
    }

    @Test
    void zeroNewTokensGeneratesNothing() {
        List<Generator.Completion> none =
                generator.generate(List.of(PROMPT, PROMPT), GenerationConfig.greedy(0, Set.of()), manager);
        assertThat(none).allSatisfy(c -> assertThat(c.tokens()).isEmpty());
    }
}
