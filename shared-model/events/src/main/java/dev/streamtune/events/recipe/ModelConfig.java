package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** The base model of a recipe and where the fine-tuning method applies ({@code applied_module}). */
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
        String cacheDir) {
}
