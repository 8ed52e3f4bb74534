package dev.streamtune.streams;

/** A stage cannot carry out a recipe: the field to blame and why, for the recipe's dead letter. */
public final class RecipeRejectedException extends RuntimeException {

    private final String field;

    public RecipeRejectedException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    public RecipeRejectedException(String field, String message) {
        this(field, message, null);
    }

    public String field() {
        return field;
    }
}
