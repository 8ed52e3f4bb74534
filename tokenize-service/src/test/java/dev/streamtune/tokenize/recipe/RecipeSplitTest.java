package dev.streamtune.tokenize.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.streamtune.events.Split;
import dev.streamtune.events.recipe.RecipeParser;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A recipe's own validation and test sets, carved out of its datasets' training split. */
class RecipeSplitTest {

    private static final int N = 20_000;

    private static List<String> conversationIds(int n) {
        return IntStream.range(0, n).mapToObj(i -> "conversation-" + i).toList();
    }

    /**
     * Whatever the order the conversations arrive in, and across restarts (a new instance), each lands in the same
     * split: the carving is a function of the conversation and the recipe's settings alone.
     */
    @Test
    void aConversationLandsInTheSameSplitWhateverTheArrivalOrderAndAcrossRestarts() {
        qt().withExamples(50)
                .forAll(longs().all(), integers().between(1, 300), doubles().between(0, 0.5), longs().all())
                .checkAssert((shuffle, size, validRatio, seed) -> {
                    List<String> ids = conversationIds(size);
                    List<String> arrival = new ArrayList<>(ids);
                    Collections.shuffle(arrival, new Random(shuffle));

                    Map<String, Split> inOrder = assign(new RecipeSplit(validRatio, 0.1, seed), ids);
                    Map<String, Split> shuffled = assign(new RecipeSplit(validRatio, 0.1, seed), arrival);

                    assertThat(shuffled).isEqualTo(inOrder);
                });
    }

    @Test
    void theRatiosAreHonouredWithinSamplingError() {
        RecipeSplit split = new RecipeSplit(0.1, 0.05, 42);

        Map<Split, Long> counts = count(split, conversationIds(N), Split.TRAIN);

        // four standard deviations of a binomial count: fails by chance about once in 15,000 seeds
        assertThat(counts.get(Split.VALID)).isBetween(within(N, 0.1, -4), within(N, 0.1, 4));
        assertThat(counts.get(Split.TEST)).isBetween(within(N, 0.05, -4), within(N, 0.05, 4));
        assertThat(counts.get(Split.TRAIN)).isEqualTo(N - counts.get(Split.VALID) - counts.get(Split.TEST));
    }

    /**
     * ingest-service splits a dataset by the same kind of rank of the conversation id and its seed (42 by default,
     * as the recipe's): were the carving to use that rank, a dataset's training conversations (rank below 0.9)
     * would give valid_ratio 0.1 a ninth of them instead of a tenth.
     */
    @Test
    void theCarvingIsIndependentOfTheDatasetsOwnSplitUnderTheSameSeed() {
        List<String> datasetTrain = conversationIds(3 * N).stream()
                .filter(id -> ingestRank(42, id) < 0.9)
                .toList();

        Map<Split, Long> counts = count(new RecipeSplit(0.1, 0, 42), datasetTrain, Split.TRAIN);

        int n = datasetTrain.size();
        assertThat(counts.get(Split.VALID)).isBetween(within(n, 0.1, -4), within(n, 0.1, 4));
    }

    @Test
    void conversationsTheDatasetPutInValidationOrTestStayThere() {
        RecipeSplit split = new RecipeSplit(0.5, 0.4, 7);

        for (String id : conversationIds(200)) {
            assertThat(split.of(id, Split.VALID)).isEqualTo(Split.VALID);
            assertThat(split.of(id, Split.TEST)).isEqualTo(Split.TEST);
        }
    }

    /**
     * Two recipes with the same seed carve the same validation set, so their evaluation losses compare; a smaller
     * ratio carves a subset of a larger one; another seed draws another set.
     */
    @Test
    void theSameSeedCarvesTheSameSetsAndASmallerRatioASubset() {
        List<String> ids = conversationIds(5_000);
        Map<String, Split> small = assign(new RecipeSplit(0.05, 0, 3), ids);
        Map<String, Split> large = assign(new RecipeSplit(0.2, 0, 3), ids);
        Map<String, Split> otherSeed = assign(new RecipeSplit(0.05, 0, 4), ids);

        small.forEach((id, split) -> {
            if (split == Split.VALID) {
                assertThat(large.get(id)).isEqualTo(Split.VALID);
            }
        });
        assertThat(otherSeed).isNotEqualTo(small);
    }

    @Test
    void withoutRatiosNothingIsCarved() {
        RecipeSplit none = new RecipeSplit(0, 0, 42);

        assertThat(none.carves()).isFalse();
        assertThat(count(none, conversationIds(1_000), Split.TRAIN)).containsEntry(Split.TRAIN, 1_000L);
    }

    @Test
    void aRecipesRatiosAndSeedAreReadFromItsDataAndTrainingConfig() {
        var recipe = RecipeParser.parse("""
                name: carved
                data_config:
                  val_set_size: 0.2
                  test_ratio: 0.1
                training_config:
                  finetuning_type: full
                  seed: 3
                """, "carved.yaml").recipe();
        List<String> ids = conversationIds(2_000);

        assertThat(assign(RecipeSplit.of(recipe), ids)).isEqualTo(assign(new RecipeSplit(0.2, 0.1, 3), ids));
        assertThat(RecipeSplit.of(recipe).toString()).isEqualTo("valid_ratio 0.2, test_ratio 0.1, seed 3");
    }

    private static Map<String, Split> assign(RecipeSplit split, List<String> ids) {
        Map<String, Split> splits = new HashMap<>();
        ids.forEach(id -> splits.put(id, split.of(id, Split.TRAIN)));
        return splits;
    }

    private static Map<Split, Long> count(RecipeSplit split, List<String> ids, Split datasetSplit) {
        Map<Split, Long> counts = new EnumMap<>(Split.class);
        for (Split each : Split.values()) {
            counts.put(each, 0L);
        }
        ids.forEach(id -> counts.merge(split.of(id, datasetSplit), 1L, Long::sum));
        return counts;
    }

    /** The expected count of n draws at probability p, moved by sigmas standard deviations. */
    private static long within(int n, double p, int sigmas) {
        return Math.round(n * p + sigmas * Math.sqrt(n * p * (1 - p)));
    }

    /** ingest-service's SplitPolicy.rank, which this module cannot see. */
    private static double ingestRank(long seed, String conversationId) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256")
                    .digest((seed + ":" + conversationId).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long bits = 0;
        for (int i = 0; i < 7; i++) {
            bits = (bits << 8) | (digest[i] & 0xFF);
        }
        return bits / (double) (1L << 56);
    }
}
