package dev.streamtune.tokenize.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tokenize-service's settings: their defaults live in {@link TokenizeConfig}, and each key can be set. */
class TokenizeConfigTest {

    private static TokenizeConfig read(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(TokenizeConfig.class)
                .build();
        return config.getConfigMapping(TokenizeConfig.class);
    }

    private static TokenizeConfig fromEnvironment(Map<String, String> variables) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new EnvConfigSource(variables, 300))
                .withMapping(TokenizeConfig.class)
                .build();
        return config.getConfigMapping(TokenizeConfig.class);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        TokenizeConfig config = read(Map.of());

        assertThat(config.modelRoot()).isEqualTo(Path.of("."));
        assertThat(config.flushAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.dedupHorizon()).isEqualTo(20_000);
    }

    @Test
    void everyKeyCanBeSet() {
        TokenizeConfig config = read(Map.of(
                "tokenize.model-root", "/models",
                "tokenize.flush-after", "PT0.2S",
                "tokenize.publish-timeout", "5s",
                "tokenize.dedup-horizon", "500"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.flushAfter()).isEqualTo(Duration.ofMillis(200));
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.dedupHorizon()).isEqualTo(500);
    }

    @Test
    void theDeploymentsEnvironmentVariablesSetTheKeys() {
        // k8s and Compose set TOKENIZE_MODEL_ROOT; application.properties no longer names it.
        TokenizeConfig config =
                fromEnvironment(Map.of("TOKENIZE_MODEL_ROOT", "/models", "TOKENIZE_FLUSH_AFTER", "PT2S"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.flushAfter()).isEqualTo(Duration.ofSeconds(2));
    }
}
