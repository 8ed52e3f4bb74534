package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.events.recipe.TargetModules;
import dev.streamtune.events.serde.EventJson;
import java.util.List;
import org.junit.jupiter.api.Test;

class TargetModulesTest {

    @Test
    void aListIsModuleNamesAndAStringIsARegex() throws Exception {
        TargetModules names = EventJson.mapper().readValue("[\"q_proj\",\"v_proj\"]", TargetModules.class);
        TargetModules regex = EventJson.mapper().readValue("\"all-linear\"", TargetModules.class);

        assertThat(names.names()).containsExactly("q_proj", "v_proj");
        assertThat(regex.regex()).isEqualTo("all-linear");
        assertThat(EventJson.mapper().writeValueAsString(regex)).isEqualTo("\"all-linear\"");
    }

    @Test
    void refusesOtherShapes() {
        assertThatThrownBy(() -> EventJson.mapper().readValue("7", TargetModules.class))
                .hasMessageContaining("target_modules must be a list of module names or a regex string, found number");
        assertThatThrownBy(() -> new TargetModules(List.of("a"), "b"))
                .hasMessage("target_modules is either a list of names or one regex string");
    }
}
