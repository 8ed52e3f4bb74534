package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.streamtune.events.recipe.DataConfig;
import dev.streamtune.events.recipe.GenerationSettings;
import dev.streamtune.events.recipe.JolaConfig;
import dev.streamtune.events.recipe.LoraConfig;
import dev.streamtune.events.recipe.ModelConfig;
import dev.streamtune.events.recipe.TrainingConfig;
import java.time.Instant;
import java.util.Objects;

/**
 * One fine-tuning job, on the compacted {@code recipes} topic keyed by {@link #id()}; a tombstone (null value)
 * retires it. The sections keep the snake_case keys of the YAML users already write for TRL, PEFT and the JoLA
 * authors' trainer, so a recipe on the topic reads like the file it came from.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Recipe(
        int schemaVersion,
        String id,
        String name,
        @JsonProperty("model_config") ModelConfig modelConfig,
        @JsonProperty("data_config") DataConfig dataConfig,
        @JsonProperty("training_config") TrainingConfig trainingConfig,
        @JsonProperty("lora_config") LoraConfig loraConfig,
        @JsonProperty("jola_config") JolaConfig jolaConfig,
        @JsonProperty("generation_config") GenerationSettings generationConfig,
        Instant createdAt)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public Recipe {
        Objects.requireNonNull(id, "id");
    }

    /** A recipe without generation settings (eval-service's defaults apply). */
    public Recipe(
            int schemaVersion,
            String id,
            String name,
            ModelConfig modelConfig,
            DataConfig dataConfig,
            TrainingConfig trainingConfig,
            LoraConfig loraConfig,
            JolaConfig jolaConfig,
            Instant createdAt) {
        this(schemaVersion, id, name, modelConfig, dataConfig, trainingConfig, loraConfig, jolaConfig, null, createdAt);
    }

    /** The same recipe with other data settings. */
    public Recipe withDataConfig(DataConfig newDataConfig) {
        return new Recipe(
                schemaVersion,
                id,
                name,
                modelConfig,
                newDataConfig,
                trainingConfig,
                loraConfig,
                jolaConfig,
                generationConfig,
                createdAt);
    }
}
