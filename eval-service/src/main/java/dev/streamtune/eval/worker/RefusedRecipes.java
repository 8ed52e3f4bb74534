package dev.streamtune.eval.worker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The recipes this service refused (their base model or tokenizer cannot be settled here) and why, so that a
 * checkpoint of one becomes an error evaluation that says why rather than "not known". Written by the recipe
 * lifecycle's thread as recipes come and go, read by the scorer's: the one place that state lives.
 */
final class RefusedRecipes {

    private final Map<String, String> reasons = new ConcurrentHashMap<>();

    /** The recipe cannot be carried out here, for this reason. */
    void refuse(String recipeId, String reason) {
        reasons.put(recipeId, reason);
    }

    /** A version of the recipe that can be carried out: whatever was refused before no longer applies. */
    void accept(String recipeId) {
        reasons.remove(recipeId);
    }

    /** Why the recipe was refused, or null when it was not. */
    String why(String recipeId) {
        return reasons.get(recipeId);
    }
}
