package dev.streamtune.localstack.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import org.junit.jupiter.api.Test;

class LocalRunTest {

    @Test
    void theSparklineRunsFromTheLowestBlockToTheHighestWithTheRange() throws Exception {
        JsonNode steps = EventJson.mapper()
                .readTree("[{\"loss\":4.0},{\"loss\":3.0},{\"loss\":2.5},{\"loss\":1.0},{\"loss\":1.0}]");
        assertThat(LocalRun.sparkline(steps)).isEqualTo("\u2588\u2586\u2585\u2581\u2581  (max 4.000, min 1.000)");
        assertThat(LocalRun.sparkline(EventJson.mapper().readTree("[{\"loss\":2.0}]")))
                .startsWith("\u2581");
        assertThat(LocalRun.sparkline(EventJson.mapper().readTree("[]"))).isEqualTo("(no step)");
    }
}
