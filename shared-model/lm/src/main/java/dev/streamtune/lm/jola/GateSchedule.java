package dev.streamtune.lm.jola;

import dev.streamtune.events.recipe.RecipeDefaults;
import java.util.Locale;

/**
 * JoLA's schedules for the penalty weight lambda, advanced once per training loss computation k (never by
 * evaluation: the authors' trainer does, which this port deliberately does not copy).
 *
 * <table>
 *   <tr><th>name</th><th>initial</th><th>update</th></tr>
 *   <tr><td>expon (default)</td><td>0.1</td><td>lambda = 0.1 exp(-0.01 k)</td></tr>
 *   <tr><td>linear</td><td>0</td><td>lambda = 0.2 k / total_steps (0.2 past the run's length, as a
 *   continuous run holds it)</td></tr>
 *   <tr><td>cyclic</td><td>0.1</td><td>lambda = 0.5 + 0.5 sin(2 pi k / 20)</td></tr>
 *   <tr><td>perform</td><td>0.1</td><td>loss fell: min(1, lambda + 0.01); else max(0, lambda - 0.01)</td></tr>
 *   <tr><td>fixed (none)</td><td>gate_lambda</td><td>constant</td></tr>
 * </table>
 */
public final class GateSchedule {

    public enum Kind {
        EXPON,
        LINEAR,
        CYCLIC,
        PERFORM,
        FIXED
    }

    private final Kind kind;
    private final long totalSteps;
    private final double fixed;
    private double lambda;
    private long k;
    private double previousLoss = Double.NaN;

    public GateSchedule(Kind kind, long totalSteps, double gateLambda) {
        this.kind = kind;
        this.totalSteps = totalSteps;
        this.fixed = gateLambda;
        this.lambda = switch (kind) {
            case LINEAR -> 0.0;
            case FIXED -> gateLambda;
            default -> 0.1;
        };
    }

    public static Kind parse(String name) {
        return switch ((name == null ? RecipeDefaults.GATE_SCHEDULER : name)
                .trim()
                .toLowerCase(Locale.ROOT)) {
            case "expon" -> Kind.EXPON;
            case "linear" -> Kind.LINEAR;
            case "cyclic" -> Kind.CYCLIC;
            case "perform" -> Kind.PERFORM;
            case "none", "fixed" -> Kind.FIXED;
            default ->
                throw new IllegalArgumentException(
                        "gate_scheduler '" + name + "': expected expon, linear, cyclic, perform, fixed or none");
        };
    }

    /** The weight for the next training loss. */
    public double lambda() {
        return lambda;
    }

    /** Records one training loss computation, with its loss (used by 'perform'). */
    public void advance(double loss) {
        k++;
        lambda = switch (kind) {
            case EXPON -> 0.1 * Math.exp(-0.01 * k);
            case LINEAR -> 0.2 * Math.min(k, totalSteps) / totalSteps; // held at 0.2 by a continuous run
            case CYCLIC -> 0.5 + 0.5 * Math.sin(2 * Math.PI * k / 20);
            case PERFORM ->
                Double.isNaN(previousLoss) || loss < previousLoss
                        ? Math.min(1, lambda + 0.01)
                        : Math.max(0, lambda - 0.01);
            case FIXED -> fixed;
        };
        previousLoss = loss;
    }

    public long computations() {
        return k;
    }

    /** What a resumed run needs to continue the schedule exactly ('perform' depends on the last loss). */
    public record State(long computations, double lambda, double previousLoss) {}

    public State state() {
        return new State(k, lambda, previousLoss);
    }

    /** Continues from a saved {@link #state()}. */
    public void restore(State state) {
        k = state.computations();
        lambda = state.lambda();
        previousLoss = state.previousLoss();
    }
}
