package dev.streamtune.eval.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** eval-service's settings: their defaults live in {@link EvalConfig}, not in application.properties. */
class EvalConfigTest {

    private static EvalConfig read(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(EvalConfig.class)
                .build();
        return config.getConfigMapping(EvalConfig.class);
    }

    private static EvalConfig fromEnvironment(Map<String, String> variables) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new EnvConfigSource(variables, 300))
                .withMapping(EvalConfig.class)
                .build();
        return config.getConfigMapping(EvalConfig.class);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        EvalConfig config = read(Map.of());

        assertThat(config.modelRoot()).isEqualTo(Path.of("."));
        assertThat(config.checkpointRoot()).isEqualTo(Path.of("checkpoints"));
        assertThat(config.settleAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.maxExamplesPerSplit()).isEqualTo(1000);
        assertThat(config.batchSize()).isEqualTo(8);
        assertThat(config.cachedModels()).isEqualTo(2);
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.generation().samples()).isEqualTo(8);
        assertThat(config.generation().maxNewTokens()).isEqualTo(64);
        assertThat(config.watch().trainerUrl()).isEqualTo("http://localhost:8084");
        assertThat(config.watch().formatUrl()).isEqualTo("http://localhost:8082");
        assertThat(config.watch().tokenizeUrl()).isEqualTo("http://localhost:8083");
        assertThat(config.watch().timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.watch().lagInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.watch().lagSamples()).isEqualTo(720);
    }

    @Test
    void aSetKeyOverridesItsDefault() {
        EvalConfig config = read(Map.of(
                "eval.settle-after", "PT3S",
                "eval.generation.max-new-tokens", "16",
                "eval.watch.trainer-url", "http://trainer-service:8084"));

        assertThat(config.settleAfter()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.generation().maxNewTokens()).isEqualTo(16);
        assertThat(config.watch().trainerUrl()).isEqualTo("http://trainer-service:8084");
        assertThat(config.watch().formatUrl()).isEqualTo("http://localhost:8082");
    }

    @Test
    void theDeploymentsEnvironmentVariablesSetTheKeys() {
        // k8s and Compose set these; application.properties no longer names them.
        EvalConfig config = fromEnvironment(Map.of(
                "EVAL_MODEL_ROOT",
                "/models",
                "EVAL_CHECKPOINT_ROOT",
                "/checkpoints",
                "EVAL_WATCH_TRAINER_URL",
                "http://trainer-service:8084"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.checkpointRoot()).isEqualTo(Path.of("/checkpoints"));
        assertThat(config.watch().trainerUrl()).isEqualTo("http://trainer-service:8084");
    }
}
