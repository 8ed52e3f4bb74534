package dev.streamtune.tokenize.recipe;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.DatasetWeight;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.tokenize.example.Truncation;
import java.util.LinkedHashMap;
import java.util.Map;

/** What tokenizing means for one recipe: its tokenizer, lengths, truncation, packing, mixing and batch size. */
public record TokenizePlan(
        Recipe recipe,
        TextTokenizer tokenizer,
        int maxSeqLength,
        Truncation truncation,
        boolean packing,
        Map<String, Double> mixWeights,
        int rowsPerBatch) {

    public static TokenizePlan of(Recipe recipe, Tokenizers tokenizers) {
        DataConfig data = recipe.dataConfig();
        TrainingConfig training = recipe.trainingConfig();
        Map<String, Double> weights = new LinkedHashMap<>();
        if (data != null && data.datasets() != null && data.datasets().size() > 1) {
            for (DatasetWeight dataset : data.datasets()) {
                weights.put(
                        dataset.name(), dataset.weight() == null ? RecipeDefaults.DATASET_WEIGHT : dataset.weight());
            }
        }
        boolean packing = data != null && data.packing() != null ? data.packing() : RecipeDefaults.PACKING;
        int maxLength =
                data != null && data.maxSeqLength() != null ? data.maxSeqLength() : RecipeDefaults.MAX_SEQ_LENGTH;
        int rows = training != null && training.perDeviceTrainBatchSize() != null
                ? training.perDeviceTrainBatchSize()
                : RecipeDefaults.PER_DEVICE_TRAIN_BATCH_SIZE;
        return new TokenizePlan(
                recipe,
                tokenizers.of(
                        recipe.modelConfig() == null
                                ? null
                                : recipe.modelConfig().tokenizer(),
                        recipe.modelConfig() == null
                                ? null
                                : recipe.modelConfig().pretrainedModelNameOrPath()),
                maxLength,
                Truncation.parse(data == null ? null : data.truncation()),
                packing,
                weights,
                rows);
    }

    public String id() {
        return recipe.id();
    }

    /** Padding: the tokenizer's EOS, or 0 (never trained, never attended to). */
    public int padId() {
        return tokenizer.eos().orElse(0);
    }
}
