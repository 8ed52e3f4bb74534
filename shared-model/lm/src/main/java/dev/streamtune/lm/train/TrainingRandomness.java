package dev.streamtune.lm.train;

import ai.djl.engine.Engine;

/**
 * Where training draws its randomness (adapter dropout, JoLA's gate noise): PyTorch's generator, reseeded at the
 * start of every optimiser step from the run's seed and the step number. A run resumed at step k therefore draws
 * exactly what the uninterrupted run drew from step k on, without saving the generator's internal state, which
 * DJL does not expose.
 */
public final class TrainingRandomness {

    private TrainingRandomness() {}

    /** Seeds the engine for optimiser step {@code step} of a run with seed {@code seed}. */
    public static void beginStep(long seed, long step) {
        Engine.getInstance().setRandomSeed(seedFor(seed, step));
    }

    /**
     * Seeds the engine for one micro-batch of an optimiser step. The engine's generator is global to the process:
     * where several runs share it (a trainer serving several recipes), each micro-batch reseeds it, so that what a
     * run draws depends only on its seed, step and micro-batch, never on what other runs drew in between.
     */
    public static void beginMicroBatch(long seed, long step, int microBatch) {
        Engine.getInstance().setRandomSeed(seedFor(seed, step * 1_000_003L + microBatch));
    }

    /** A well-mixed 31-bit seed for (seed, step) (SplitMix64's finaliser), so neighbouring steps are unrelated. */
    static int seedFor(long seed, long step) {
        long z = seed * 0x9E3779B97F4A7C15L + step;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) (z & 0x7FFFFFFF);
    }
}
