package dev.streamtune.eval;

import dev.streamtune.eval.config.EvalConfig;
import java.nio.file.Path;
import java.time.Duration;

/** eval-service's settings for tests that build its parts by hand, models and checkpoints under one folder. */
public final class TestConfigs {

    private TestConfigs() {}

    /** The settings with these values; no generation or watch settings (the parts under test read none). */
    public static EvalConfig of(
            Path root, Duration settleAfter, int maxExamplesPerSplit, int batchSize, Duration publishTimeout) {
        return of(root, root, settleAfter, maxExamplesPerSplit, batchSize, publishTimeout);
    }

    /** The settings with models and checkpoints under folders of their own. */
    public static EvalConfig of(
            Path modelRoot,
            Path checkpointRoot,
            Duration settleAfter,
            int maxExamplesPerSplit,
            int batchSize,
            Duration publishTimeout) {
        return new EvalConfig() {
            public Path modelRoot() {
                return modelRoot;
            }

            public Path checkpointRoot() {
                return checkpointRoot;
            }

            public Duration settleAfter() {
                return settleAfter;
            }

            public int maxExamplesPerSplit() {
                return maxExamplesPerSplit;
            }

            public int batchSize() {
                return batchSize;
            }

            public int cachedModels() {
                return 1;
            }

            public Duration publishTimeout() {
                return publishTimeout;
            }

            public Generation generation() {
                return null;
            }

            public Watch watch() {
                return null;
            }
        };
    }
}
