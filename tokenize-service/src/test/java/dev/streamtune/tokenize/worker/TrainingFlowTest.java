package dev.streamtune.tokenize.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.streamtune.events.Split;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.lm.tokenizer.TiktokenTokenizer;
import dev.streamtune.streams.InputOffset;
import dev.streamtune.tokenize.example.TokenizedExample;
import dev.streamtune.tokenize.example.Truncation;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The training path apart from Kafka: holds follow every buffered example until the batch carrying it, and after a
 * restart the flow leaves out exactly the example keys already batched, windows and mixing copies included.
 */
class TrainingFlowTest {

    private static final TopicPartition EXAMPLES = new TopicPartition("examples", 0);

    /** Counts holds per input, as the commit watermark does. */
    private static final class CountingHolds implements TrainingFlow.Holds {
        final Map<InputOffset, Integer> held = new HashMap<>();

        @Override
        public void hold(InputOffset input) {
            held.merge(input, 1, Integer::sum);
        }

        @Override
        public void release(InputOffset input) {
            held.computeIfPresent(input, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    private static TokenizePlan plan(Map<String, Double> mix, int rowsPerBatch) {
        var recipe = RecipeParser.parse("""
                name: flow
                model_config:
                  tokenizer: r50k_base
                data_config:
                  format_type: chatml
                training_config:
                  finetuning_type: lora
                lora_config:
                  r: 8
                """, "flow.yaml").recipe();
        return new TokenizePlan(
                recipe, TiktokenTokenizer.gpt2WithChatMl(), 8, Truncation.SPLIT, false, mix, rowsPerBatch);
    }

    private static TokenizedExample piece(String key, String dataset, int length) {
        int[] ids = new int[length];
        int[] labels = new int[length];
        Arrays.fill(ids, 7);
        Arrays.fill(labels, 7);
        return new TokenizedExample(key, key, dataset, Split.TRAIN, ids, labels, length, 0, null);
    }

    private static InputOffset at(long offset) {
        return new InputOffset(EXAMPLES, offset);
    }

    private static List<String> keys(List<TrainingFlow.Batch> batches) {
        return batches.stream().flatMap(b -> b.batch().exampleKeys().stream()).toList();
    }

    private static void publish(List<TrainingFlow.Batch> batches, CountingHolds holds) {
        batches.forEach(batch -> batch.releases().forEach(holds::release));
    }

    @Test
    void aWindowStillBufferedAtACrashIsBatchedAfterTheRestartAndThePublishedOneIsNotBatchedAgain() {
        TokenizePlan plan = plan(Map.of(), 2);
        CountingHolds holds = new CountingHolds();
        TrainingFlow before = new TrainingFlow(plan, 0, Set.of(), holds, mixed -> {});
        List<TokenizedExample> split = List.of(piece("r:e#0", "d", 8), piece("r:e#1", "d", 5));

        List<TrainingFlow.Batch> published = new ArrayList<>(before.add(List.of(piece("r:d", "d", 6)), at(0)));
        published.addAll(before.add(split, at(1)));
        publish(published, holds);

        // The batch of d and e#0 is out; e#1 waits for a second row: e (offset 1) is still held, so a crash here
        // re-reads it.
        assertThat(keys(published)).containsExactly("r:d", "r:e#0");
        assertThat(published.get(0).batch().sourceOffsets()).isEqualTo(Map.of(0, 1L));
        assertThat(holds.held).isEqualTo(Map.of(at(1), 1));

        // The worker dies. Its successor reads the recipe's batches (exact keys) and re-reads e.
        Set<String> history = new HashSet<>(keys(published));
        CountingHolds afterHolds = new CountingHolds();
        TrainingFlow after = new TrainingFlow(plan, 1, history, afterHolds, mixed -> {});
        assertThat(after.allBatched(split)).isFalse();
        List<TrainingFlow.Batch> resumed = new ArrayList<>(after.add(split, at(1)));
        resumed.addAll(after.flush());
        publish(resumed, afterHolds);

        assertThat(keys(resumed)).containsExactly("r:e#1");
        assertThat(resumed.get(0).batch().sequenceNumber()).isEqualTo(1);
        assertThat(afterHolds.held).isEmpty();
    }

    @Test
    void aMixingCopyStillBufferedAtACrashIsMadeAgainAndNoKeyIsBatchedTwice() {
        // Two datasets at equal weight in a window of four, three from a and one from b: b's share of two is met
        // by a copy of its one example, and one of a's is dropped.
        TokenizePlan plan = plan(Map.of("a", 1.0, "b", 1.0), 1);
        List<TokenizedExample> inputs =
                List.of(piece("r:a1", "a", 3), piece("r:a2", "a", 3), piece("r:a3", "a", 3), piece("r:b1", "b", 3));
        CountingHolds holds = new CountingHolds();
        TrainingFlow before = new TrainingFlow(plan, 0, Set.of(), holds, mixed -> {});
        List<TrainingFlow.Batch> all = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            all.addAll(before.add(List.of(inputs.get(i)), at(i)));
        }
        all.addAll(before.flush());
        List<String> everything = keys(all);
        assertThat(everything).contains("r:b1", "r:b1~1");
        // each batch names the dataset of each of its examples, in the keys' order (a checkpoint's lineage)
        for (TrainingFlow.Batch batch : all) {
            TrainBatch made = batch.batch();
            assertThat(made.exampleDatasets()).hasSameSizeAs(made.exampleKeys());
            for (int i = 0; i < made.exampleKeys().size(); i++) {
                assertThat(made.exampleDatasets().get(i))
                        .isEqualTo(made.exampleKeys().get(i).substring(2, 3));
            }
        }

        // Only the first half of the batches made it out before the crash.
        Set<String> history = new HashSet<>(keys(all.subList(0, all.size() / 2)));
        TrainingFlow after = new TrainingFlow(plan, history.size(), history, new CountingHolds(), mixed -> {});
        List<TrainingFlow.Batch> resumed = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            resumed.addAll(after.add(List.of(inputs.get(i)), at(i)));
        }
        resumed.addAll(after.flush());

        List<String> union = new ArrayList<>(history);
        union.addAll(keys(resumed));
        assertThat(union).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(everything);
    }

    @Test
    void anExampleTheMixerCannotTakeIsRefusedBeforeAnyOfItIsBuffered() {
        CountingHolds holds = new CountingHolds();
        TrainingFlow flow = new TrainingFlow(plan(Map.of("a", 1.0, "b", 1.0), 1), 0, Set.of(), holds, mixed -> {});

        assertThatIllegalArgumentException()
                .isThrownBy(
                        () -> flow.add(List.of(piece("r:x#0", "elsewhere", 3), piece("r:x#1", "elsewhere", 3)), at(0)))
                .withMessageContaining("dataset elsewhere");
        assertThat(holds.held).isEmpty();
        assertThat(flow.holdsExamples()).isFalse();
    }

    @Test
    void aQuietStreamDoesNotMixAWindowMissingANamedDatasetWhichKeepsItsInputsHeld() {
        // a is uploaded, then the stream goes quiet before b: batching a alone would ignore b's weight.
        CountingHolds holds = new CountingHolds();
        TrainingFlow flow = new TrainingFlow(plan(Map.of("a", 3.0, "b", 1.0), 2), 0, Set.of(), holds, mixed -> {});
        List<TrainingFlow.Batch> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.addAll(flow.add(List.of(piece("r:a" + i, "a", 3)), at(i)));
        }
        batches.addAll(flow.flush());

        assertThat(batches).isEmpty();
        assertThat(flow.holdsExamples())
                .as("nothing for the idle flush to send")
                .isFalse();
        assertThat(holds.held.keySet()).containsExactlyInAnyOrder(at(0), at(1), at(2), at(3), at(4), at(5));

        batches.addAll(flow.add(List.of(piece("r:b0", "b", 3)), at(6)));
        batches.addAll(flow.add(List.of(piece("r:b1", "b", 3)), at(7)));
        assertThat(flow.holdsExamples()).isTrue();
        batches.addAll(flow.flush());
        publish(batches, holds);

        List<String> keys = keys(batches);
        assertThat(keys.stream().filter(k -> k.startsWith("r:a"))).hasSize(6);
        assertThat(keys.stream().filter(k -> k.startsWith("r:b"))).hasSize(2);
        assertThat(holds.held).isEmpty();
    }

    @Test
    void everyHoldIsReleasedOnceEveryBatchIsPublished() {
        CountingHolds holds = new CountingHolds();
        TrainingFlow flow = new TrainingFlow(plan(Map.of("a", 3.0, "b", 1.0), 3), 0, Set.of(), holds, mixed -> {});
        List<TrainingFlow.Batch> batches = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            batches.addAll(flow.add(List.of(piece("r:a" + i, "a", 3)), at(i)));
        }
        batches.addAll(flow.add(List.of(piece("r:b0", "b", 3)), at(7)));
        batches.addAll(flow.flush());
        List<TrainBatch> out = batches.stream().map(TrainingFlow.Batch::batch).toList();
        publish(batches, holds);

        assertThat(out.stream().mapToInt(b -> b.exampleKeys().size()).sum()).isEqualTo(8);
        assertThat(holds.held).isEmpty();
    }

    @Test
    void theFlowForgetsWhereAnExampleWasReadOnceEveryPieceOfItIsInABatch() {
        TrainingFlow flow = new TrainingFlow(plan(Map.of(), 2), 0, Set.of(), new CountingHolds(), mixed -> {});
        for (int i = 0; i < 10_000; i++) {
            flow.add(List.of(piece("r:e" + i + "#0", "d", 8), piece("r:e" + i + "#1", "d", 3)), at(i));
            assertThat(flow.pendingSources()).isLessThanOrEqualTo(2);
        }
        flow.flush();
        assertThat(flow.pendingSources()).isZero();
    }
}
