package dev.streamtune.tokenize.recipe;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.DatasetWeight;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.tokenize.example.Truncation;
import java.util.LinkedHashMap;
import java.util.Map;

/** What tokenizing means for one recipe: its tokenizer, lengths, truncation, packing, mixing and batch size. */
public record TokenizePlan(Recipe recipe, TextTokenizer tokenizer, int maxSeqLength, Truncation truncation,
                           boolean packing, Map<String, Double> mixWeights, int rowsPerBatch) {

    public static final int DEFAULT_MAX_SEQ_LENGTH = 1024;
    public static final int DEFAULT_ROWS_PER_BATCH = 8;

    public static TokenizePlan of(Recipe recipe, Tokenizers tokenizers) {
        DataConfig data = recipe.dataConfig();
        TrainingConfig training = recipe.trainingConfig();
        Map<String, Double> weights = new LinkedHashMap<>();
        if (data != null && data.datasets() != null && data.datasets().size() > 1) {
            for (DatasetWeight dataset : data.datasets()) {
                weights.put(dataset.name(), dataset.weight() == null ? 1.0 : dataset.weight());
            }
        }
        int maxLength = data != null && data.maxSeqLength() != null ? data.maxSeqLength() : DEFAULT_MAX_SEQ_LENGTH;
        int rows = training != null && training.perDeviceTrainBatchSize() != null ? training.perDeviceTrainBatchSize()
                : DEFAULT_ROWS_PER_BATCH;
        return new TokenizePlan(recipe, tokenizers.of(recipe.modelConfig() == null ? null : recipe.modelConfig().tokenizer(),
                recipe.modelConfig() == null ? null : recipe.modelConfig().pretrainedModelNameOrPath()), maxLength,
                Truncation.parse(data == null ? null : data.truncation()), data != null && Boolean.TRUE.equals(data.packing()),
                weights, rows);
    }

    public String id() {
        return recipe.id();
    }

    /** Padding: the tokenizer's EOS, or 0 (never trained, never attended to). */
    public int padId() {
        return tokenizer.eos().orElse(0);
    }
}
