package dev.streamtune.events;

import dev.streamtune.events.serde.EventJson;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A training run is one version of a recipe: the recipe id and the first 8 hex digits of the SHA-256 of the recipe
 * as it travels on {@code recipes}. The trainer names its runs so; the evaluator names the base model's scores of a
 * recipe (which precede every checkpoint) by the same run.
 */
public final class RunIds {

    private RunIds() {}

    public static String of(Recipe recipe) {
        return of(recipe.id(), hash(recipe));
    }

    public static String of(String recipeId, String hash) {
        return recipeId + "-" + hash.substring(0, 8);
    }

    /** The SHA-256 of the recipe's JSON, in hex. */
    public static String hash(Recipe recipe) {
        try {
            byte[] json = EventJson.mapper().writeValueAsBytes(recipe);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (Exception e) {
            throw new IllegalStateException("cannot hash recipe " + recipe.id(), e);
        }
    }
}
