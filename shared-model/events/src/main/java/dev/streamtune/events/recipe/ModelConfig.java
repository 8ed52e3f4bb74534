package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The base model of a recipe and where the fine-tuning method applies ({@code applied_module}).
 *
 * <p>Without {@code pretrained_model_name_or_path}, the trainer builds a model from scratch over the tokenizer's
 * vocabulary: {@code architecture} (llama or gpt2) and the shape, under the names of a Hugging Face config.json
 * ({@code hidden_size}, {@code intermediate_size}, {@code num_hidden_layers}, {@code num_attention_heads},
 * {@code num_key_value_heads}, {@code max_position_embeddings}).
 *
 * <p>{@code quantization_config}: QLoRA's 4-bit base ({@link QuantizationConfig}).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelConfig(
        String pretrainedModelNameOrPath,
        String architecture,
        String dtype,
        String appliedModule,
        String baseModelName,
        String tokenizer,
        String device,
        String cacheDir,
        Integer hiddenSize,
        Integer intermediateSize,
        Integer numHiddenLayers,
        Integer numAttentionHeads,
        Integer numKeyValueHeads,
        Integer maxPositionEmbeddings,
        QuantizationConfig quantizationConfig) {

    /** A model configuration without quantisation. */
    public ModelConfig(
            String pretrainedModelNameOrPath,
            String architecture,
            String dtype,
            String appliedModule,
            String baseModelName,
            String tokenizer,
            String device,
            String cacheDir,
            Integer hiddenSize,
            Integer intermediateSize,
            Integer numHiddenLayers,
            Integer numAttentionHeads,
            Integer numKeyValueHeads,
            Integer maxPositionEmbeddings) {
        this(
                pretrainedModelNameOrPath,
                architecture,
                dtype,
                appliedModule,
                baseModelName,
                tokenizer,
                device,
                cacheDir,
                hiddenSize,
                intermediateSize,
                numHiddenLayers,
                numAttentionHeads,
                numKeyValueHeads,
                maxPositionEmbeddings,
                null);
    }

    /** Whether the base model is held in 4 bits (QLoRA). */
    @JsonIgnore
    public boolean fourBit() {
        return quantizationConfig != null && quantizationConfig.fourBit();
    }
}
