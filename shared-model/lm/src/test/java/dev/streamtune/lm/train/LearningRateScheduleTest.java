package dev.streamtune.lm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.streamtune.lm.train.LearningRateSchedule.Kind;
import dev.streamtune.lm.train.LearningRateSchedule.Options;
import java.util.function.LongToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Every step's rate against transformers' own lambdas (optimization.py), transcribed line for line below and
 * multiplied by the peak as its LambdaLR does, over twice the run's length: up to the length they must agree
 * exactly, and past it (a continuous run) the rate holds the lambda's value at the length, never rising again.
 */
class LearningRateScheduleTest {

    private static final double PEAK = 3e-3;
    private static final long WARMUP = 7;
    private static final long TOTAL = 60;

    // --- transformers' lambdas, as its optimization.py writes them ----------------------------------------------

    private static double constantWithWarmup(long currentStep, long numWarmupSteps) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1.0, numWarmupSteps);
        }
        return 1.0;
    }

    private static double linear(long currentStep, long numWarmupSteps, long numTrainingSteps) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        return Math.max(
                0.0, (double) (numTrainingSteps - currentStep) / Math.max(1, numTrainingSteps - numWarmupSteps));
    }

    private static double cosine(
            long currentStep, long numWarmupSteps, long numTrainingSteps, double numCycles, double minLrRate) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        double progress = (double) (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
        double factor = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
        factor = factor * (1 - minLrRate) + minLrRate;
        return Math.max(0, factor);
    }

    private static double hardRestarts(long currentStep, long numWarmupSteps, long numTrainingSteps, double numCycles) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        double progress = (double) (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
        if (progress >= 1.0) {
            return 0.0;
        }
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * ((numCycles * progress) % 1.0))));
    }

    private static double polynomial(
            long currentStep, long numWarmupSteps, long numTrainingSteps, double lrEnd, double power, double lrInit) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        } else if (currentStep > numTrainingSteps) {
            return lrEnd / lrInit;
        }
        double lrRange = lrInit - lrEnd;
        long decaySteps = numTrainingSteps - numWarmupSteps;
        double pctRemaining = 1 - (double) (currentStep - numWarmupSteps) / decaySteps;
        double decay = lrRange * Math.pow(pctRemaining, power) + lrEnd;
        return decay / lrInit;
    }

    private static double wsd(
            long currentStep,
            long numWarmupSteps,
            long numStableSteps,
            long numDecaySteps,
            String warmupType,
            String decayType,
            double minLrRatio,
            double numCycles) {
        if (currentStep < numWarmupSteps) {
            double progress = (double) currentStep / Math.max(1, numWarmupSteps);
            double factor = switch (warmupType) {
                case "linear" -> progress;
                case "cosine" -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                default -> 1.0 - Math.sqrt(1.0 - progress);
            };
            factor = factor * (1.0 - minLrRatio) + minLrRatio;
            return Math.max(0.0, factor);
        }
        if (currentStep < numWarmupSteps + numStableSteps) {
            return 1.0;
        }
        if (currentStep < numWarmupSteps + numStableSteps + numDecaySteps) {
            double progress = (double) (currentStep - numWarmupSteps - numStableSteps) / Math.max(1, numDecaySteps);
            double factor = switch (decayType) {
                case "linear" -> 1.0 - progress;
                case "cosine" -> 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                default -> 1.0 - Math.sqrt(progress);
            };
            factor = factor * (1.0 - minLrRatio) + minLrRatio;
            return Math.max(0.0, factor);
        }
        return minLrRatio;
    }

    private static double inverseSqrt(long currentStep, long numWarmupSteps, long timescale) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        long shift = timescale - numWarmupSteps;
        return 1.0 / Math.sqrt((double) (currentStep + shift) / timescale);
    }

    // --- the comparison -------------------------------------------------------------------------------------------

    /** Steps 0 to 2T: transformers' rate up to T, its rate at T after (held by a continuous run). */
    private static void agrees(LearningRateSchedule schedule, LongToDoubleFunction lambda) {
        for (long step = 0; step <= 2 * TOTAL; step++) {
            double expected = PEAK * lambda.applyAsDouble(Math.min(step, TOTAL));
            assertThat(schedule.at(step))
                    .as("%s at step %d", schedule.kind(), step)
                    .isCloseTo(expected, within(1e-15));
        }
    }

    private static Options options() {
        return Options.NONE;
    }

    @Test
    void constantIgnoresWarmupAsTransformersDoesAndConstantWithWarmupUsesIt() {
        agrees(new LearningRateSchedule(Kind.CONSTANT, PEAK, WARMUP, TOTAL), step -> 1);
        agrees(
                new LearningRateSchedule(Kind.CONSTANT_WITH_WARMUP, PEAK, WARMUP, TOTAL),
                step -> constantWithWarmup(step, WARMUP));
    }

    @Test
    void linearAndCosineFollowTransformersAndHoldTheirEndAfterIt() {
        agrees(new LearningRateSchedule(Kind.LINEAR, PEAK, WARMUP, TOTAL), step -> linear(step, WARMUP, TOTAL));
        agrees(new LearningRateSchedule(Kind.COSINE, PEAK, WARMUP, TOTAL), step -> cosine(step, WARMUP, TOTAL, 0.5, 0));
        agrees(
                new LearningRateSchedule(
                        Kind.COSINE,
                        PEAK,
                        0,
                        TOTAL,
                        new Options(0.25, null, null, null, null, null, null, null, null, null, null)),
                step -> cosine(step, 0, TOTAL, 0.25, 0));
        agrees(
                new LearningRateSchedule(
                        Kind.COSINE_WITH_RESTARTS,
                        PEAK,
                        WARMUP,
                        TOTAL,
                        new Options(3.0, null, null, null, null, null, null, null, null, null, null)),
                step -> hardRestarts(step, WARMUP, TOTAL, 3));
    }

    /**
     * The defect this pins: past max_steps transformers' cosine climbs back to the peak (cos beyond pi) and linear
     * stays at 0; a continuous run at twice max_steps must be at neither a rising nor a negative rate.
     */
    @Test
    void aContinuousRunPastItsScheduleNeverSeesTheRateRiseAgain() {
        LearningRateSchedule cosine = new LearningRateSchedule(Kind.COSINE, PEAK, WARMUP, TOTAL);
        LearningRateSchedule linear = new LearningRateSchedule(Kind.LINEAR, PEAK, WARMUP, TOTAL);
        assertThat(PEAK * cosine(2 * TOTAL - WARMUP, WARMUP, TOTAL, 0.5, 0))
                .as("transformers' own formula rises")
                .isCloseTo(PEAK, within(1e-12));
        for (LearningRateSchedule schedule : new LearningRateSchedule[] {cosine, linear}) {
            for (long step = WARMUP + 1; step <= 2 * TOTAL; step++) {
                assertThat(schedule.at(step))
                        .as("%s at %d", schedule.kind(), step)
                        .isLessThanOrEqualTo(schedule.at(step - 1))
                        .isGreaterThanOrEqualTo(0);
            }
            assertThat(schedule.at(2 * TOTAL)).isZero();
            assertThat(schedule.endRate()).isZero();
        }
        LearningRateSchedule floor = new LearningRateSchedule(
                Kind.COSINE_WITH_MIN_LR,
                PEAK,
                WARMUP,
                TOTAL,
                new Options(null, 3e-4, null, null, null, null, null, null, null, null, null));
        assertThat(floor.at(2 * TOTAL)).isCloseTo(3e-4, within(1e-15));
        assertThat(floor.endRate()).isCloseTo(3e-4, within(1e-15));
    }

    @Test
    void cosineWithMinLrTakesItsFloorFromMinLrOrMinLrRate() {
        agrees(
                new LearningRateSchedule(
                        Kind.COSINE_WITH_MIN_LR,
                        PEAK,
                        WARMUP,
                        TOTAL,
                        new Options(null, 3e-4, null, null, null, null, null, null, null, null, null)),
                step -> cosine(step, WARMUP, TOTAL, 0.5, 3e-4 / PEAK));
        agrees(
                new LearningRateSchedule(
                        Kind.COSINE_WITH_MIN_LR,
                        PEAK,
                        WARMUP,
                        TOTAL,
                        new Options(null, null, 0.2, null, null, null, null, null, null, null, null)),
                step -> cosine(step, WARMUP, TOTAL, 0.5, 0.2));
    }

    @Test
    void polynomialDecaysToLrEndWithItsPower() {
        agrees(
                new LearningRateSchedule(Kind.POLYNOMIAL, PEAK, WARMUP, TOTAL),
                step -> polynomial(step, WARMUP, TOTAL, 1e-7, 1.0, PEAK));
        agrees(
                new LearningRateSchedule(
                        Kind.POLYNOMIAL,
                        PEAK,
                        WARMUP,
                        TOTAL,
                        new Options(null, null, null, 1e-4, 2.0, null, null, null, null, null, null)),
                step -> polynomial(step, WARMUP, TOTAL, 1e-4, 2.0, PEAK));
    }

    @Test
    void warmupStableDecayInEveryShape() {
        for (String warmup : new String[] {"linear", "cosine", "1-sqrt"}) {
            for (String decay : new String[] {"cosine", "linear", "1-sqrt"}) {
                agrees(
                        new LearningRateSchedule(
                                Kind.WARMUP_STABLE_DECAY,
                                PEAK,
                                WARMUP,
                                TOTAL,
                                new Options(null, null, null, null, null, 20L, null, warmup, decay, 0.1, null)),
                        step -> wsd(step, WARMUP, TOTAL - WARMUP - 20, 20, warmup, decay, 0.1, 0.5));
            }
        }
        // defaults (linear warmup, cosine decay, floor 0), and a stable phase given instead of the run's length
        agrees(
                new LearningRateSchedule(
                        Kind.WARMUP_STABLE_DECAY,
                        PEAK,
                        WARMUP,
                        TOTAL,
                        new Options(null, null, null, null, null, 15L, null, null, null, null, null)),
                step -> wsd(step, WARMUP, TOTAL - WARMUP - 15, 15, "linear", "cosine", 0, 0.5));
        LearningRateSchedule stream = new LearningRateSchedule(
                Kind.WARMUP_STABLE_DECAY,
                PEAK,
                WARMUP,
                null,
                new Options(null, null, null, null, null, 10L, 30L, null, "linear", null, null));
        for (long step = 0; step <= 2 * TOTAL; step++) {
            assertThat(stream.at(step))
                    .as("step %d", step)
                    .isCloseTo(PEAK * wsd(step, WARMUP, 30, 10, "linear", "linear", 0, 0.5), within(1e-15));
        }
    }

    @Test
    void inverseSqrtNeedsNoLength() {
        LearningRateSchedule schedule = new LearningRateSchedule(Kind.INVERSE_SQRT, PEAK, WARMUP, null, options());
        for (long step = 0; step <= 2 * TOTAL; step++) {
            assertThat(schedule.at(step)).isCloseTo(PEAK * inverseSqrt(step, WARMUP, WARMUP), within(1e-15));
        }
        LearningRateSchedule noWarmup = new LearningRateSchedule(Kind.INVERSE_SQRT, PEAK, 0, null, options());
        assertThat(noWarmup.at(30_000)).isCloseTo(PEAK * inverseSqrt(30_000, 0, 10_000), within(1e-15));
    }

    @Test
    void settingsTransformersRefusesAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> new LearningRateSchedule(Kind.POLYNOMIAL, 1e-8, 0, TOTAL))
                .hasMessageContaining("lr_scheduler_kwargs.lr_end");
        assertThatThrownBy(() -> new LearningRateSchedule(Kind.COSINE_WITH_MIN_LR, PEAK, 0, TOTAL))
                .hasMessageContaining("needs min_lr or min_lr_rate");
        assertThatThrownBy(() -> new LearningRateSchedule(
                        Kind.COSINE_WITH_MIN_LR,
                        PEAK,
                        0,
                        TOTAL,
                        new Options(null, 1e-4, 0.1, null, null, null, null, null, null, null, null)))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> new LearningRateSchedule(Kind.WARMUP_STABLE_DECAY, PEAK, 0, TOTAL))
                .hasMessageContaining("num_decay_steps");
        assertThatThrownBy(() -> new LearningRateSchedule(
                        Kind.WARMUP_STABLE_DECAY,
                        PEAK,
                        0,
                        TOTAL,
                        new Options(null, null, null, null, null, 5L, null, "square", null, null, null)))
                .hasMessageContaining("warmup_type");
        assertThatThrownBy(() -> new LearningRateSchedule(Kind.LINEAR, PEAK, 0, null, options()))
                .hasMessageContaining("spans the run's length");
        assertThatThrownBy(() -> LearningRateSchedule.parse("reduce_lr_on_plateau"))
                .hasMessageContaining("expected one of")
                .hasMessageContaining("warmup_stable_decay");
    }
}
