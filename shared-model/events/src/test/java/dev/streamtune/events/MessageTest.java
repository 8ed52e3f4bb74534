package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import org.junit.jupiter.api.Test;

class MessageTest {

    @Test
    void aTurnWrittenWithoutAWeightReadsAsBeforeAndIsTrained() throws Exception {
        Message message =
                EventJson.mapper().readValue("{\"role\":\"assistant\",\"content\":\"Hello!\"}", Message.class);

        assertThat(message).isEqualTo(Message.assistant("Hello!"));
        assertThat(message.weight()).isNull();
        assertThat(message.untrained()).isFalse();
    }

    @Test
    void aTurnOfDefaultWeightIsWrittenAsBefore() {
        JsonNode written = EventJson.mapper().valueToTree(Message.assistant("Hello!"));

        assertThat(written.toString()).isEqualTo("{\"role\":\"assistant\",\"content\":\"Hello!\"}");
    }

    @Test
    void aTurnOfWeightZeroKeepsItsWeightOnTheWire() throws Exception {
        Message untrained = new Message(Role.ASSISTANT, "Not this one.", 0);

        String written = EventJson.mapper().writeValueAsString(untrained);

        assertThat(written).isEqualTo("{\"role\":\"assistant\",\"content\":\"Not this one.\",\"weight\":0}");
        assertThat(EventJson.mapper().readValue(written, Message.class)).isEqualTo(untrained);
        assertThat(untrained.untrained()).isTrue();
    }

    @Test
    void weightOneIsTheDefaultTurn() {
        Message weighted = new Message(Role.ASSISTANT, "Hello!", 1);

        assertThat(weighted).isEqualTo(Message.assistant("Hello!"));
        assertThat(weighted.weight()).isNull();
    }

    @Test
    void anyOtherWeightIsRefused() {
        assertThatThrownBy(() -> new Message(Role.ASSISTANT, "Hello!", 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight 2: expected 0 or 1");
    }
}
