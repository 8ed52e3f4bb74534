package dev.streamtune.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenIdsTest {

    @Test
    void encodesLittleEndianInt32Base64() {
        // 1 = 01 00 00 00, -100 = 9C FF FF FF, 50258 = 52 C4 00 00
        assertThat(TokenIds.of(1, -100, 50258).toBase64()).isEqualTo("AQAAAJz///9SxAAA");
    }

    @Test
    void readsBothTheCompactAndTheHandWrittenForm() throws Exception {
        JsonNode compact = EventJson.mapper().readTree("\"AQAAAJz///9SxAAA\"");
        JsonNode array = EventJson.mapper().readTree("[1, -100, 50258]");

        assertThat(TokenIds.fromJson(compact)).isEqualTo(TokenIds.of(1, -100, 50258));
        assertThat(TokenIds.fromJson(array)).isEqualTo(TokenIds.of(1, -100, 50258));
    }

    @Test
    void refusesATruncatedArray() {
        assertThatThrownBy(() -> TokenIds.fromBase64("AQAAAJz/"))
                .hasMessage("token array of 6 bytes is not a whole number of little-endian int32 values");
    }

    @Test
    void refusesNonIntegers() throws Exception {
        JsonNode array = EventJson.mapper().readTree("[1, 2.5]");

        assertThatThrownBy(() -> TokenIds.fromJson(array))
                .hasMessage("token array element 1 is 2.5, expected an int32");
    }

    @Test
    void packedSequenceRefusesMisalignedArrays() {
        assertThatThrownBy(() -> new PackedSequence(
                        TokenIds.of(1, 2, 3), TokenIds.of(1, 2), TokenIds.of(0, 1, 2), List.of(0), 3, 1))
                .hasMessage("inputIds/labels: lengths differ (3 vs 2)");
    }
}
