package dev.streamtune.lm.train;

import dev.streamtune.events.recipe.RecipeDefaults;
import java.util.Locale;

/**
 * Learning rate per optimiser step, as transformers' {@code get_scheduler} computes it for {@code lr_scheduler_type}
 * and {@code lr_scheduler_kwargs}: the rate of step {@code s} (counted from 0) is the peak times the schedule's
 * factor at {@code s}, the factor of step 0 included (transformers' LambdaLR applies it to the first step).
 *
 * <table>
 *   <tr><th>kind</th><th>factor</th></tr>
 *   <tr><td>constant</td><td>1 (warmup ignored, as transformers ignores it; constant_with_warmup uses it)</td></tr>
 *   <tr><td>constant_with_warmup</td><td>s/w during warmup, then 1</td></tr>
 *   <tr><td>linear</td><td>s/w, then (T - s) / (T - w), down to 0</td></tr>
 *   <tr><td>cosine</td><td>s/w, then 0.5 (1 + cos(2 pi c p)), p = (s - w) / (T - w), c = num_cycles (0.5)</td></tr>
 *   <tr><td>cosine_with_restarts</td><td>s/w, then 0.5 (1 + cos(pi ((c p) mod 1))), c = num_cycles (1)</td></tr>
 *   <tr><td>polynomial</td><td>s/w, then ((peak - lr_end) (1 - p)^power + lr_end) / peak; lr_end 1e-7, power 1</td></tr>
 *   <tr><td>cosine_with_min_lr</td><td>s/w, then the cosine factor scaled into [min_lr_rate, 1] (min_lr / peak, or
 *       min_lr_rate)</td></tr>
 *   <tr><td>warmup_stable_decay</td><td>warmup (linear, cosine or 1-sqrt), stable at 1 for num_stable_steps (or
 *       whatever of T the warmup and num_decay_steps leave), decay (cosine, linear or 1-sqrt) over
 *       num_decay_steps, all within [min_lr_ratio, 1]; min_lr_ratio after (a warmup and decay longer than T leave no
 *       stable phase)</td></tr>
 *   <tr><td>inverse_sqrt</td><td>s/w, then 1 / sqrt((s + t - w) / t), t = timescale (w, or 10,000 without warmup)</td></tr>
 * </table>
 *
 * <p>A schedule that spans the run's length {@code T} holds the factor it ends at, its value at {@code T}, for every
 * later step: a continuous run trained past max_steps keeps the rate its schedule ended at (0 for linear and cosine,
 * min_lr for cosine_with_min_lr, lr_end for polynomial, min_lr_ratio for warmup_stable_decay), never the rise
 * transformers' formulas give past their end (cosine climbs back to the peak). Where the factor's end is 0 such a run
 * reads on without learning, which is why the trainer warns about it.
 */
public record LearningRateSchedule(Kind kind, double peak, long warmupSteps, Long totalSteps, Options options) {

    /** The schedules, by transformers' {@code SchedulerType} names. */
    public enum Kind {
        CONSTANT("constant"),
        CONSTANT_WITH_WARMUP("constant_with_warmup"),
        LINEAR("linear"),
        COSINE("cosine"),
        COSINE_WITH_RESTARTS("cosine_with_restarts"),
        POLYNOMIAL("polynomial"),
        COSINE_WITH_MIN_LR("cosine_with_min_lr"),
        WARMUP_STABLE_DECAY("warmup_stable_decay"),
        INVERSE_SQRT("inverse_sqrt");

        private final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }

        /** The name recipes give it ({@code lr_scheduler_type}). */
        public String wireName() {
            return wireName;
        }
    }

    /**
     * {@code lr_scheduler_kwargs}, each null when not given (the kind's default applies).
     *
     * @param numCycles      cosine and cosine_with_min_lr: waves over the decay (0.5: half a cosine, down to the
     *                       end); cosine_with_restarts: hard restarts (1); warmup_stable_decay's cosine decay (0.5)
     * @param minLr          cosine_with_min_lr: the rate it ends at
     * @param minLrRate      cosine_with_min_lr: the rate it ends at as a fraction of the peak
     * @param lrEnd          polynomial: the rate it ends at (1e-7)
     * @param power          polynomial: the power of the decay (1)
     * @param numDecaySteps  warmup_stable_decay: steps of the decay (required)
     * @param numStableSteps warmup_stable_decay: steps at the peak; by default what the run's length leaves
     * @param warmupType     warmup_stable_decay: linear (default), cosine or 1-sqrt
     * @param decayType      warmup_stable_decay: cosine (default), linear or 1-sqrt
     * @param minLrRatio     warmup_stable_decay: the floor of warmup and decay as a fraction of the peak (0)
     * @param timescale      inverse_sqrt: the decay's time scale (the warmup steps, or 10,000 without warmup)
     */
    public record Options(
            Double numCycles,
            Double minLr,
            Double minLrRate,
            Double lrEnd,
            Double power,
            Long numDecaySteps,
            Long numStableSteps,
            String warmupType,
            String decayType,
            Double minLrRatio,
            Long timescale) {

        public static final Options NONE =
                new Options(null, null, null, null, null, null, null, null, null, null, null);
    }

    public LearningRateSchedule {
        options = options == null ? Options.NONE : options;
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmup steps must be at least 0, found " + warmupSteps);
        }
        if (totalSteps != null && (totalSteps <= 0 || warmupSteps > totalSteps)) {
            throw new IllegalArgumentException(
                    "need 0 <= warmup (" + warmupSteps + ") <= total steps (" + totalSteps + ") and at least one step");
        }
        String problem = problem(kind, peak, totalSteps, options);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** A schedule with the kind's default options. */
    public LearningRateSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {
        this(kind, peak, warmupSteps, totalSteps, Options.NONE);
    }

    /** Warmup given as a fraction of the total steps ({@code warmup_ratio}), rounded up as transformers does. */
    public static LearningRateSchedule withWarmupRatio(Kind kind, double peak, double warmupRatio, long totalSteps) {
        return new LearningRateSchedule(kind, peak, (long) Math.ceil(warmupRatio * totalSteps), totalSteps);
    }

    /** The kind a recipe names; linear when it names none, as transformers' default. */
    public static Kind parse(String name) {
        String wire =
                (name == null ? RecipeDefaults.LR_SCHEDULER_TYPE : name).trim().toLowerCase(Locale.ROOT);
        for (Kind kind : Kind.values()) {
            if (kind.wireName.equals(wire)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("lr_scheduler_type '" + name + "': expected one of " + names());
    }

    /** Every kind's name, for messages. */
    public static String names() {
        StringBuilder names = new StringBuilder();
        for (Kind kind : Kind.values()) {
            names.append(names.length() == 0 ? "" : ", ").append(kind.wireName);
        }
        return names.toString();
    }

    /**
     * Whether the kind spans a run of known length: linear, cosine and the other decays; warmup_stable_decay unless
     * num_stable_steps places its decay. Constant, constant_with_warmup and inverse_sqrt run on without one.
     */
    public static boolean needsLength(Kind kind, Options options) {
        return switch (kind) {
            case CONSTANT, CONSTANT_WITH_WARMUP, INVERSE_SQRT -> false;
            case WARMUP_STABLE_DECAY -> options == null || options.numStableSteps() == null;
            default -> true;
        };
    }

    /**
     * What is wrong with these settings, in the words of the recipe's keys, or null when they make a schedule (the
     * conditions under which transformers' schedulers raise, and a length where one is needed).
     */
    public static String problem(Kind kind, double peak, Long totalSteps, Options options) {
        Options o = options == null ? Options.NONE : options;
        if (!(peak >= 0)) {
            return "learning_rate must be at least 0, found " + peak;
        }
        if (needsLength(kind, o) && totalSteps == null) {
            return "lr_scheduler_type " + kind.wireName + " spans the run's length, which is not known";
        }
        switch (kind) {
            case POLYNOMIAL -> {
                if (!(peak > lrEnd(o))) {
                    return "lr_scheduler_kwargs.lr_end (" + lrEnd(o) + ") must be smaller than the learning rate ("
                            + peak + ")";
                }
            }
            case COSINE_WITH_MIN_LR -> {
                if (o.minLr() != null && o.minLrRate() != null) {
                    return "lr_scheduler_kwargs: give one of min_lr and min_lr_rate, not both";
                }
                if (o.minLr() == null && o.minLrRate() == null) {
                    return "lr_scheduler_kwargs: cosine_with_min_lr needs min_lr or min_lr_rate";
                }
            }
            case WARMUP_STABLE_DECAY -> {
                if (o.numDecaySteps() == null || o.numDecaySteps() < 0) {
                    return "lr_scheduler_kwargs.num_decay_steps: warmup_stable_decay needs the steps of its decay"
                            + (o.numDecaySteps() == null ? "" : ", found " + o.numDecaySteps());
                }
                if (!Shape.known(o.warmupType(), RecipeDefaults.WARMUP_TYPE)) {
                    return "lr_scheduler_kwargs.warmup_type: expected linear, cosine or 1-sqrt, found '"
                            + o.warmupType() + "'";
                }
                if (!Shape.known(o.decayType(), RecipeDefaults.DECAY_TYPE)) {
                    return "lr_scheduler_kwargs.decay_type: expected linear, cosine or 1-sqrt, found '" + o.decayType()
                            + "'";
                }
            }
            default -> {}
        }
        return null;
    }

    /** The rate for optimiser step {@code step}, counted from 0. */
    public double at(long step) {
        long s = needsLength(kind, options) ? Math.min(step, totalSteps) : step;
        return peak * factor(s);
    }

    /**
     * The rate every step at or past the run's length takes (a continuous run's rate after its schedule); for a
     * schedule over a run of known length.
     */
    public double endRate() {
        if (totalSteps == null) {
            throw new IllegalStateException(kind.wireName + " over a run of unknown length has no end");
        }
        return at(totalSteps);
    }

    private double factor(long s) {
        Options o = options;
        if (kind == Kind.CONSTANT) {
            return 1.0;
        }
        if (kind == Kind.WARMUP_STABLE_DECAY) {
            return warmupStableDecay(s);
        }
        if (s < warmupSteps) {
            return (double) s / Math.max(1, warmupSteps);
        }
        double progress = totalSteps == null ? 0 : (double) (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (kind) {
            case CONSTANT_WITH_WARMUP -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - s) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> Math.max(0.0, halfCosine(orDefault(o.numCycles(), RecipeDefaults.NUM_CYCLES), progress));
            case COSINE_WITH_RESTARTS ->
                progress >= 1.0
                        ? 0.0
                        : Math.max(
                                0.0,
                                0.5
                                        * (1.0
                                                + Math.cos(Math.PI
                                                        * ((orDefault(
                                                                                o.numCycles(),
                                                                                RecipeDefaults.NUM_CYCLES_WITH_RESTARTS)
                                                                        * progress)
                                                                % 1.0))));
            case POLYNOMIAL -> {
                double end = lrEnd(o);
                double remaining = 1.0 - progress;
                yield ((peak - end) * Math.pow(remaining, orDefault(o.power(), RecipeDefaults.POWER)) + end) / peak;
            }
            case COSINE_WITH_MIN_LR -> {
                double floor = o.minLrRate() != null ? o.minLrRate() : o.minLr() / peak;
                double cosine = halfCosine(orDefault(o.numCycles(), RecipeDefaults.NUM_CYCLES), progress);
                yield Math.max(0.0, cosine * (1 - floor) + floor);
            }
            case INVERSE_SQRT -> {
                long timescale = o.timescale() != null
                        ? o.timescale()
                        : warmupSteps > 0 ? warmupSteps : RecipeDefaults.TIMESCALE_WITHOUT_WARMUP;
                yield 1.0 / Math.sqrt((double) (s + timescale - warmupSteps) / timescale);
            }
            default -> throw new IllegalStateException(kind.name());
        };
    }

    /** transformers' warmup-stable-decay: every phase's factor within [min_lr_ratio, 1]. */
    private double warmupStableDecay(long s) {
        Options o = options;
        double floor = orDefault(o.minLrRatio(), RecipeDefaults.MIN_LR_RATIO);
        long decay = o.numDecaySteps();
        long stable = o.numStableSteps() != null ? o.numStableSteps() : Math.max(0, totalSteps - warmupSteps - decay);
        if (s < warmupSteps) {
            double progress = (double) s / Math.max(1, warmupSteps);
            double rise = switch (Shape.of(o.warmupType(), RecipeDefaults.WARMUP_TYPE)) {
                case LINEAR -> progress;
                case COSINE -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(1.0 - progress);
            };
            return Math.max(0.0, rise * (1.0 - floor) + floor);
        }
        if (s < warmupSteps + stable) {
            return 1.0;
        }
        if (s < warmupSteps + stable + decay) {
            double progress = (double) (s - warmupSteps - stable) / Math.max(1, decay);
            double fall = switch (Shape.of(o.decayType(), RecipeDefaults.DECAY_TYPE)) {
                case LINEAR -> 1.0 - progress;
                case COSINE -> halfCosine(orDefault(o.numCycles(), RecipeDefaults.NUM_CYCLES), progress);
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(progress);
            };
            return Math.max(0.0, fall * (1.0 - floor) + floor);
        }
        return floor;
    }

    /** 0.5 (1 + cos(2 pi cycles progress)): from 1 at the decay's start down to 0 at its end for half a cycle. */
    private static double halfCosine(double cycles, double progress) {
        return 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress));
    }

    private static double lrEnd(Options o) {
        return orDefault(o.lrEnd(), RecipeDefaults.LR_END);
    }

    private static double orDefault(Double value, double fallback) {
        return value == null ? fallback : value;
    }

    /** The shapes of warmup_stable_decay's warmup and decay. */
    private enum Shape {
        LINEAR,
        COSINE,
        ONE_MINUS_SQRT;

        static boolean known(String name, String fallback) {
            try {
                of(name, fallback);
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        static Shape of(String name, String fallback) {
            return switch ((name == null ? fallback : name).trim().toLowerCase(Locale.ROOT)) {
                case "linear" -> LINEAR;
                case "cosine" -> COSINE;
                case "1-sqrt" -> ONE_MINUS_SQRT;
                default -> throw new IllegalArgumentException(name);
            };
        }
    }
}
