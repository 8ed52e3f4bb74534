package dev.streamtune.trainer.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The trainer's settings: their defaults live in {@link TrainerConfig}, not in application.properties. */
class TrainerConfigTest {

    private static TrainerConfig read(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(TrainerConfig.class)
                .build();
        return config.getConfigMapping(TrainerConfig.class);
    }

    private static TrainerConfig fromEnvironment(Map<String, String> variables) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new EnvConfigSource(variables, 300))
                .withMapping(TrainerConfig.class)
                .build();
        return config.getConfigMapping(TrainerConfig.class);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        TrainerConfig config = read(Map.of());

        assertThat(config.modelRoot()).isEqualTo(Path.of("."));
        assertThat(config.checkpointRoot()).isEqualTo(Path.of("checkpoints"));
        assertThat(config.checkpointWhenIdle()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.streamEndAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.evaluationWait()).isEqualTo(Duration.ofHours(1));
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.auth().token()).isEmpty();
        assertThat(config.memoryBudget()).as("the device's memory decides").isEmpty();
    }

    @Test
    void aMemoryBudgetIsASize() {
        assertThat(read(Map.of("trainer.memory-budget", "12G")).memoryBudget())
                .hasValueSatisfying(size -> assertThat(size.asLongValue()).isEqualTo(12L << 30));
    }

    @Test
    void theDeploymentsEnvironmentVariablesSetTheKeys() {
        // k8s and Compose set these; application.properties no longer names them.
        TrainerConfig config =
                fromEnvironment(Map.of("TRAINER_MODEL_ROOT", "/models", "TRAINER_CHECKPOINT_ROOT", "/checkpoints"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.checkpointRoot()).isEqualTo(Path.of("/checkpoints"));
    }
}
