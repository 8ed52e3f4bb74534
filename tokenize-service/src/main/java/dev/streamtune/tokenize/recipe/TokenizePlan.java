package dev.streamtune.tokenize.recipe;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.DatasetWeight;
import dev.streamtune.events.recipe.RecipeDefaults;
import dev.streamtune.events.recipe.TrainingConfig;
import dev.streamtune.lm.tokenizer.TextTokenizer;
import dev.streamtune.lm.tokenizer.Tokenizers;
import dev.streamtune.streams.RecipeRejectedException;
import dev.streamtune.tokenize.example.Truncation;
import java.util.LinkedHashMap;
import java.util.Locale;
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
                tokenizers.of(recipe),
                maxLength,
                Truncation.parse(data == null ? null : data.truncation()),
                packing,
                weights,
                rows);
    }

    public String id() {
        return recipe.id();
    }

    /** {@code data_config.train_size}: how many training examples the recipe uses; null for all of them. */
    public Integer trainSize() {
        return recipe.dataConfig() == null ? null : recipe.dataConfig().trainSize();
    }

    /** The size as sent of the recipe's largest batch: rows per batch x max_seq_length tokens ({@link TrainBatch}). */
    public long largestBatchBytes() {
        return TrainBatch.largestSize(rowsPerBatch, maxSeqLength);
    }

    /**
     * Refuses the recipe when its largest batch would not fit in one Kafka record of {@code maxRecordSize} bytes:
     * every such batch would be dead-lettered, so the recipe is, before any example is tokenized for it.
     */
    public void requireBatchesFit(int maxRecordSize) {
        long largest = largestBatchBytes();
        if (largest > maxRecordSize) {
            throw new RecipeRejectedException(
                    "training_config.per_device_train_batch_size",
                    String.format(
                            Locale.ROOT,
                            "a batch of micro_batch_size (per_device_train_batch_size) %,d rows x max_seq_length %,d"
                                    + " tokens is up to %,d bytes as sent, over the maximum record size of %,d bytes"
                                    + " (max.request.size / max.message.bytes): lower micro_batch_size or"
                                    + " max_seq_length (gradient_accumulation_steps keeps the effective batch)",
                            rowsPerBatch,
                            maxSeqLength,
                            largest,
                            maxRecordSize));
        }
    }

    /** Padding: the tokenizer's EOS, or 0 (never trained, never attended to). */
    public int padId() {
        return tokenizer.eos().orElse(0);
    }
}
