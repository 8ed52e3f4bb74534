package dev.streamtune.events.serde;

import dev.streamtune.events.Recipe;

/** Kafka deserializer for {@link Recipe}, named for configuration by class. */
public class RecipeDeserializer extends EventDeserializer<Recipe> {

    public RecipeDeserializer() {
        super(Recipe.class, Recipe.SCHEMA_VERSION);
    }
}
