package dev.streamtune.streams;

import dev.streamtune.events.Recipe;

/** What a stage does for a recipe: the worker that carries it out. */
public interface RecipeStage<W extends RecipeStreamWorker> {

    /**
     * The worker for {@code recipe}, not yet started; a {@link RecipeRejectedException} (or any exception) when the
     * stage cannot carry it out, which becomes a dead letter naming the recipe and the field.
     */
    W workerFor(Recipe recipe, StageContext context);

    /** Logged when a worker starts: what it will do for its recipe. */
    default String describe(W worker) {
        return "recipe " + worker.recipeId();
    }
}
