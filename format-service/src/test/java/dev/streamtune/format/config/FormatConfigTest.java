package dev.streamtune.format.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** format-service's settings: their defaults live in {@link FormatConfig}, and each key can be set. */
class FormatConfigTest {

    private static FormatConfig read(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(FormatConfig.class)
                .build();
        return config.getConfigMapping(FormatConfig.class);
    }

    private static FormatConfig fromEnvironment(Map<String, String> variables) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new EnvConfigSource(variables, 300))
                .withMapping(FormatConfig.class)
                .build();
        return config.getConfigMapping(FormatConfig.class);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        FormatConfig config = read(Map.of());

        assertThat(config.modelRoot()).isEqualTo(Path.of("."));
        assertThat(config.templateDate()).isEqualTo("26 Jul 2024");
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.jinja().renderTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.jinja().maxRenders()).isEqualTo(513);
    }

    @Test
    void everyKeyCanBeSet() {
        FormatConfig config = read(Map.of(
                "format.model-root", "/models",
                "format.template-date", "01 Jan 2025",
                "format.publish-timeout", "PT5S",
                "format.jinja.render-timeout", "250ms",
                "format.jinja.max-renders", "9"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.templateDate()).isEqualTo("01 Jan 2025");
        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.jinja().renderTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.jinja().maxRenders()).isEqualTo(9);
    }

    @Test
    void theDeploymentsEnvironmentVariablesSetTheKeys() {
        // k8s and Compose set FORMAT_MODEL_ROOT; application.properties no longer names it.
        FormatConfig config = fromEnvironment(Map.of("FORMAT_MODEL_ROOT", "/models", "FORMAT_JINJA_MAX_RENDERS", "9"));

        assertThat(config.modelRoot()).isEqualTo(Path.of("/models"));
        assertThat(config.jinja().maxRenders()).isEqualTo(9);
    }
}
