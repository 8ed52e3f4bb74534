package dev.streamtune.format.recipe;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.Recipe;
import dev.streamtune.format.render.ExampleRenderer;
import java.util.Set;

/**
 * What formatting one recipe means: which datasets it reads (all when it names none) and how it renders them.
 */
public record RecipeFormat(Recipe recipe, Set<String> datasets, ExampleRenderer renderer) {

    public RecipeFormat {
        datasets = Set.copyOf(datasets);
    }

    public String id() {
        return recipe.id();
    }

    public boolean reads(Conversation conversation) {
        return datasets.isEmpty() || datasets.contains(conversation.dataset());
    }

    public String template() {
        return renderer.template().name();
    }
}
