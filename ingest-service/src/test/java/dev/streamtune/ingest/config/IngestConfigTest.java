package dev.streamtune.ingest.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ingest-service's settings: their defaults live in {@link IngestConfig}, timeouts are durations. */
class IngestConfigTest {

    private static IngestConfig read(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(IngestConfig.class)
                .build();
        return config.getConfigMapping(IngestConfig.class);
    }

    @Test
    void defaultsWhenNothingIsSet() {
        IngestConfig config = read(Map.of());

        assertThat(config.publishTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.maxUploadSize().asLongValue()).isEqualTo(2L << 30);
        assertThat(config.maxRecordSize().asLongValue()).isEqualTo(1L << 20);
        assertThat(config.stream().dataset()).isEqualTo("stream");
    }

    @Test
    void publishTimeoutIsADuration() {
        assertThat(read(Map.of("ingest.publish-timeout", "PT0.5S")).publishTimeout())
                .isEqualTo(Duration.ofMillis(500));
        assertThat(read(Map.of("ingest.publish-timeout", "90s")).publishTimeout())
                .isEqualTo(Duration.ofSeconds(90));
        // A bare number is seconds, as the key's former int form was.
        assertThat(read(Map.of("ingest.publish-timeout", "30")).publishTimeout())
                .isEqualTo(Duration.ofSeconds(30));
    }
}
