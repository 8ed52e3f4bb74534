package dev.streamtune.tokenize.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.streams.Problem;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

class ErrorMappersTest {

    private final ErrorMappers mappers = new ErrorMappers();

    @Test
    void anInactiveRecipeIsA404ProblemSayingSo() {
        assertProblem(
                mappers.notFound(new NotFoundException("recipe r1 is not active in this tokenize-service")),
                404,
                "urn:streamtune:problem:not-found",
                "Not found",
                "recipe r1 is not active in this tokenize-service");
    }

    @Test
    void anUnknownSplitIsA400ProblemSayingWhatIsExpected() {
        assertProblem(
                mappers.badRequest(new BadRequestException("split 'dev': expected train, valid or test")),
                400,
                "urn:streamtune:problem:invalid-request",
                "Invalid request",
                "split 'dev': expected train, valid or test");
    }

    private static void assertProblem(Response response, int status, String type, String title, String detail) {
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOfSatisfying(Problem.class, problem -> {
            assertThat(problem.type()).isEqualTo(type);
            assertThat(problem.title()).isEqualTo(title);
            assertThat(problem.status()).isEqualTo(status);
            assertThat(problem.detail()).isEqualTo(detail);
        });
    }
}
