package dev.streamtune.format.render;

import dev.streamtune.events.recipe.RecipeDefaults;
import java.util.Locale;

/** Which turns a recipe trains on ({@code data_config.train_on}). */
public enum TrainOn {
    /** Every assistant turn, with its turn end: the default for chat data. */
    ASSISTANT,
    /** Only the last assistant turn (earlier turns are context). */
    LAST_ASSISTANT,
    /** Every character, for completion and pre-training style data. */
    ALL;

    public static TrainOn parse(String value) {
        if (value == null || value.isBlank()) {
            return parse(RecipeDefaults.TRAIN_ON);
        }
        return switch (value.trim().toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "assistant", "assistant_only", "completion_only" -> ASSISTANT;
            case "last_assistant", "last_turn" -> LAST_ASSISTANT;
            case "all", "everything" -> ALL;
            default ->
                throw new IllegalArgumentException(
                        "data_config.train_on '" + value + "': expected assistant, last_assistant or all");
        };
    }
}
