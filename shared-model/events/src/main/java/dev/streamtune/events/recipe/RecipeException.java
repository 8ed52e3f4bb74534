package dev.streamtune.events.recipe;

import java.util.List;

/** A recipe that cannot be used, with every problem found (not just the first), each naming its key's path. */
public class RecipeException extends IllegalArgumentException {

    private final List<String> problems;

    public RecipeException(String source, List<String> problems) {
        super(source + ": " + problems.size() + (problems.size() == 1 ? " problem" : " problems") + ":\n  - "
                + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
