package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/** Which data a recipe uses and how it is rendered and cut into sequences. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DataConfig(
        List<DatasetWeight> datasets,
        String dataPath,
        String taskName,
        Integer trainSize,
        Integer validSize,
        Integer testSize,
        String formatType,
        String chatTemplate,
        String systemPrompt,
        Integer maxSeqLength,
        Boolean packing,
        String trainOn,
        String truncation) {
}
