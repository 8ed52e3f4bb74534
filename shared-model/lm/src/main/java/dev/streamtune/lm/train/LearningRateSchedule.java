package dev.streamtune.lm.train;

import java.util.Locale;

/**
 * Learning rate per optimiser step, as Hugging Face's {@code lr_scheduler_type}: linear warmup from 0 over the warmup
 * steps, then constant, linear decay to 0, or cosine decay to 0 at the last step.
 */
public record LearningRateSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {

    public enum Kind { CONSTANT, LINEAR, COSINE }

    public LearningRateSchedule {
        if (totalSteps <= 0 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmup (" + warmupSteps + ") <= total steps (" + totalSteps + ")");
        }
    }

    /** Warmup given as a fraction of the total steps ({@code warmup_ratio}), rounded up as Hugging Face does. */
    public static LearningRateSchedule withWarmupRatio(Kind kind, double peak, double warmupRatio, long totalSteps) {
        return new LearningRateSchedule(kind, peak, (long) Math.ceil(warmupRatio * totalSteps), totalSteps);
    }

    public static Kind parse(String name) {
        return switch (name == null ? "linear" : name.trim().toLowerCase(Locale.ROOT)) {
            case "constant", "constant_with_warmup" -> Kind.CONSTANT;
            case "linear" -> Kind.LINEAR;
            case "cosine" -> Kind.COSINE;
            default -> throw new IllegalArgumentException("lr_scheduler_type '" + name + "': expected linear, cosine or constant");
        };
    }

    /** The rate for optimiser step {@code step}, counted from 0. */
    public double at(long step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (kind) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0.0, 1.0 - progress);
            case COSINE -> peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
        };
    }
}
