package dev.streamtune.ingest.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streamtune.events.serde.EventJson;
import org.junit.jupiter.api.Test;

class MetadataPredicateTest {

    private final JsonNode record = json("{\"metadata\":{\"augmented\":true,\"score\":3.5,\"lang\":\"en\"}}");

    private static JsonNode json(String text) {
        try {
            return EventJson.mapper().readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void comparesBooleansNumbersAndText() {
        assertThat(MetadataPredicate.parse("metadata.augmented==true").test(record))
                .isTrue();
        assertThat(MetadataPredicate.parse("metadata.augmented == false").test(record))
                .isFalse();
        assertThat(MetadataPredicate.parse("metadata.score>=3").test(record)).isTrue();
        assertThat(MetadataPredicate.parse("metadata.score<3").test(record)).isFalse();
        assertThat(MetadataPredicate.parse("metadata.lang==en").test(record)).isTrue();
        assertThat(MetadataPredicate.parse("metadata.lang!=\"de\"").test(record))
                .isTrue();
        assertThat(MetadataPredicate.parse("metadata.missing==true").test(record))
                .isFalse();
        assertThat(MetadataPredicate.parse("metadata.missing!=true").test(record))
                .isTrue();
    }

    @Test
    void refusesWhatIsNotAnExpression() {
        assertThatThrownBy(() -> MetadataPredicate.parse("augmented")).hasMessageContaining("must be path op value");
    }
}
