package dev.streamtune.trainer.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.streams.Problem;
import dev.streamtune.trainer.plan.RecipeProblemsException;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import dev.streamtune.trainer.service.RunConflictException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorMappersTest {

    private final ErrorMappers mappers = new ErrorMappers();

    @Test
    void anUnreadableRecipeIsRefusedWithEveryProblem() {
        List<String> problems =
                List.of("training_config.learning_rate: expected a positive number", "model_config: missing");
        Problem problem = assertProblem(
                mappers.unreadable(new RecipeException("recipe.yaml", problems)),
                400,
                "urn:streamtune:problem:recipe-refused",
                "Recipe refused",
                "the recipe is refused");
        assertThat(problem.extensions()).containsEntry("problems", problems);
    }

    @Test
    void anUntrainableRecipeIsRefusedWithEveryProblem() {
        List<String> problems = List.of("lora_config.target_modules: c_attn is no module of this model");
        Problem problem = assertProblem(
                mappers.unusable(new RecipeProblemsException(problems)),
                400,
                "urn:streamtune:problem:recipe-refused",
                "Recipe refused",
                "the recipe cannot be trained");
        assertThat(problem.extensions()).containsEntry("problems", problems);
    }

    @Test
    void theOtherFailuresKeepTheirStatusAndMessage() {
        assertProblem(
                mappers.notFound(new NotFoundException("no run r1")),
                404,
                "urn:streamtune:problem:not-found",
                "Not found",
                "no run r1");
        assertProblem(
                mappers.conflict(new RunConflictException("run r1 is FINISHED")),
                409,
                "urn:streamtune:problem:conflict",
                "Conflict",
                "run r1 is FINISHED");
        assertProblem(
                mappers.unwritable(new UncheckedIOException("merged weights", new IOException("disk full"))),
                500,
                "urn:streamtune:problem:internal-error",
                "Internal error",
                "merged weights");
        assertProblem(
                mappers.storeUnavailable(
                        new RunStoreUnavailableException("the run store is not answering", new RuntimeException())),
                503,
                "urn:streamtune:problem:unavailable",
                "Service unavailable",
                "the run store is not answering");
    }

    private static Problem assertProblem(Response response, int status, String type, String title, String detail) {
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOf(Problem.class);
        Problem problem = (Problem) response.getEntity();
        assertThat(problem.status()).isEqualTo(status);
        assertThat(problem.type()).isEqualTo(type);
        assertThat(problem.title()).isEqualTo(title);
        assertThat(problem.detail()).contains(detail);
        return problem;
    }
}
