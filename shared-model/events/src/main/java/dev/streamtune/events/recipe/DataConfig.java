package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which data a recipe uses and how it is rendered and cut into sequences.
 *
 * @param datasets          datasets by registry name, with mixing weights
 * @param formatType        the template: chatml, instruction (alpaca), chat, llama3 or jinja
 * @param chatTemplate      a template name, or Jinja source overriding the model's own chat_template
 * @param systemPrompt      the default system prompt (used when a conversation has none, or always under
 *                          {@code system_prompt_mode: override})
 * @param systemPromptMode  default, override or drop
 * @param trainOn           assistant (every assistant turn), last_assistant, or all
 * @param truncation        drop (the default), truncate or split, for examples longer than max_seq_length
 * @param eosToken          the tokenizer's end-of-sequence text, when the model folder does not say it
 */
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
        String truncation,
        Double validRatio,
        Double testRatio,
        String systemPromptMode,
        String eosToken) {

    /** The same settings reading other datasets. */
    public DataConfig withDatasets(List<DatasetWeight> newDatasets) {
        return new DataConfig(
                newDatasets,
                dataPath,
                taskName,
                trainSize,
                validSize,
                testSize,
                formatType,
                chatTemplate,
                systemPrompt,
                maxSeqLength,
                packing,
                trainOn,
                truncation,
                validRatio,
                testRatio,
                systemPromptMode,
                eosToken);
    }

    /**
     * The datasets the recipe reads, by name: its {@code datasets}, else its {@code task_name} (the JoLA authors'
     * configs name their data that way); empty when it names none, which means every dataset.
     */
    @JsonIgnore
    public Set<String> datasetNames() {
        Set<String> names = new LinkedHashSet<>();
        if (datasets != null) {
            datasets.forEach(dataset -> names.add(dataset.name()));
        }
        if (names.isEmpty() && taskName != null && !taskName.isBlank()) {
            names.add(taskName);
        }
        return Collections.unmodifiableSet(names);
    }
}
