package dev.streamtune.format.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.streams.Problem;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

class ErrorMappersTest {

    @Test
    void anInactiveRecipeIsA404ProblemSayingSo() {
        Response response =
                new ErrorMappers().notFound(new NotFoundException("recipe r1 is not active in this format-service"));

        assertThat(response.getStatus()).isEqualTo(404);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOfSatisfying(Problem.class, problem -> {
            assertThat(problem.type()).isEqualTo("urn:streamtune:problem:not-found");
            assertThat(problem.title()).isEqualTo("Not found");
            assertThat(problem.status()).isEqualTo(404);
            assertThat(problem.detail()).isEqualTo("recipe r1 is not active in this format-service");
        });
    }
}
