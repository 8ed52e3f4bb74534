package dev.streamtune.trainer.plan;

import java.util.List;

/** A recipe the trainer cannot carry out: every problem, each beginning with its key's path. */
public class RecipeProblemsException extends RuntimeException {

    private final List<String> problems;

    public RecipeProblemsException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    /** The key of the first problem (what a dead letter names as its field). */
    public String field() {
        String first = problems.get(0);
        int colon = first.indexOf(':');
        return colon > 0 ? first.substring(0, colon) : null;
    }
}
