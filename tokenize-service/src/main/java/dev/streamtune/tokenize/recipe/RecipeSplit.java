package dev.streamtune.tokenize.recipe;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Split;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.RecipeDefaults;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A recipe's own validation and test sets, carved out of its datasets' training split ({@code data_config.valid_ratio},
 * Axolotl's {@code val_set_size}, LLaMA-Factory's {@code val_size}; {@code test_ratio}). The dataset's split is fixed
 * at ingestion and shared by every recipe; this one is the recipe's.
 *
 * <p>A training conversation goes to validation when its rank, a hash of its id and the recipe's seed
 * ({@code training_config.seed}), falls below {@code valid_ratio}, and to test when it falls in
 * {@code [valid_ratio, valid_ratio + test_ratio)}: a function of the conversation alone, so the same conversation
 * always lands in the same split, whatever the arrival order, restarts or replays. Recipes with the same seed carve
 * the same sets (a smaller ratio a subset of a larger one), so their evaluation losses compare. The rank's input
 * differs from ingest-service's split rank, so the carving is independent of the dataset's split even under the same
 * seed. Conversations the dataset put in validation or test stay there.
 */
public final class RecipeSplit {

    private final double validRatio;
    private final double testRatio;
    private final long seed;
    /** One digest, reused: a split belongs to one worker's thread, and looking one up costs more than the hash. */
    private final MessageDigest sha256;

    public RecipeSplit(double validRatio, double testRatio, long seed) {
        if (!(validRatio >= 0 && testRatio >= 0 && validRatio + testRatio < 1)) {
            throw new IllegalArgumentException("valid_ratio " + validRatio + " and test_ratio " + testRatio
                    + " must be fractions in [0, 1) leaving something to train on");
        }
        this.validRatio = validRatio;
        this.testRatio = testRatio;
        this.seed = seed;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RecipeSplit of(Recipe recipe) {
        DataConfig data = recipe.dataConfig();
        double valid = data == null || data.validRatio() == null ? 0 : data.validRatio();
        double test = data == null || data.testRatio() == null ? 0 : data.testRatio();
        Long seed =
                recipe.trainingConfig() == null ? null : recipe.trainingConfig().seed();
        return new RecipeSplit(valid, test, seed == null ? RecipeDefaults.SEED : seed);
    }

    /** Whether the recipe carves anything: without ratios every conversation keeps its dataset's split. */
    public boolean carves() {
        return validRatio > 0 || testRatio > 0;
    }

    /** The split a conversation of the dataset split {@code datasetSplit} has in this recipe. */
    public Split of(String conversationId, Split datasetSplit) {
        if (datasetSplit != Split.TRAIN || !carves()) {
            return datasetSplit;
        }
        double rank = rank(conversationId);
        if (rank < validRatio) {
            return Split.VALID;
        }
        return rank < validRatio + testRatio ? Split.TEST : Split.TRAIN;
    }

    /** The conversation's place in the recipe's seeded order: uniform in [0, 1). */
    double rank(String conversationId) {
        byte[] digest = sha256.digest(("recipe-split:" + seed + ":" + conversationId).getBytes(StandardCharsets.UTF_8));
        long bits = 0;
        for (int i = 0; i < 7; i++) { // 56 bits: exactly representable in a double
            bits = (bits << 8) | (digest[i] & 0xFF);
        }
        return bits / (double) (1L << 56);
    }

    @Override
    public String toString() {
        return carves() ? "valid_ratio " + validRatio + ", test_ratio " + testRatio + ", seed " + seed : "none";
    }
}
