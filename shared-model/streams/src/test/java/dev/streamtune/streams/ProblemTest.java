package dev.streamtune.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProblemTest {

    // A mapper with Jackson's defaults, as the services' REST layer has: the body must not rely on EventJson's.
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aProblemIsWrittenWithRfc9457sMembersOnly() throws Exception {
        JsonNode body = json.valueToTree(ProblemType.NOT_FOUND.problem("recipe r1 is not known"));

        assertThat(body.path("type").asText()).isEqualTo("urn:streamtune:problem:not-found");
        assertThat(body.path("title").asText()).isEqualTo("Not found");
        assertThat(body.path("status").asInt()).isEqualTo(404);
        assertThat(body.path("detail").asText()).isEqualTo("recipe r1 is not known");
        assertThat(body.has("instance")).as("no instance: omitted, not null").isFalse();
        assertThat(body.has("extensions"))
                .as("extensions are members, not a nested object")
                .isFalse();
        assertThat(body.size()).isEqualTo(4);
    }

    @Test
    void extensionMembersSitBesideTheStandardOnes() throws Exception {
        Problem problem = ProblemType.RECIPE_REFUSED
                .problem("the recipe is refused")
                .with("problems", List.of("training_config.learning_rate: expected a number"))
                .with("partialReceipt", null);

        JsonNode body = json.valueToTree(problem);

        assertThat(body.path("status").asInt()).isEqualTo(400);
        assertThat(body.path("detail").asText()).isEqualTo("the recipe is refused");
        assertThat(body.path("problems").get(0).asText()).isEqualTo("training_config.learning_rate: expected a number");
        assertThat(body.has("partialReceipt"))
                .as("a null extension is left out")
                .isFalse();
    }

    @Test
    void everyKindHasItsOwnTypeAndATitle() {
        assertThat(ProblemType.values())
                .extracting(ProblemType::uri)
                .doesNotHaveDuplicates()
                .allSatisfy(uri -> assertThat(uri).matches("urn:streamtune:problem:[a-z-]+"));
        assertThat(ProblemType.values())
                .allSatisfy(kind -> assertThat(kind.title()).isNotBlank());
        assertThat(ProblemType.CONTENT_TOO_LARGE.problem("x").type())
                .isEqualTo("urn:streamtune:problem:content-too-large");
    }
}
