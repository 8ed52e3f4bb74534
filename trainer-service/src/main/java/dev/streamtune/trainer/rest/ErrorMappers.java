package dev.streamtune.trainer.rest;

import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.streams.Problem;
import dev.streamtune.streams.ProblemType;
import dev.streamtune.trainer.plan.RecipeProblemsException;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import dev.streamtune.trainer.service.RunConflictException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import java.io.UncheckedIOException;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns failures into problem details (RFC 9457) a person can act on; a refused recipe lists every problem, each
 * beginning with its key's path, under {@code problems}.
 */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response unreadable(RecipeException e) {
        return problem(
                ProblemType.RECIPE_REFUSED.problem("the recipe is refused").with("problems", e.problems()));
    }

    @ServerExceptionMapper
    public Response unusable(RecipeProblemsException e) {
        return problem(ProblemType.RECIPE_REFUSED
                .problem("the recipe cannot be trained")
                .with("problems", e.problems()));
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return problem(ProblemType.NOT_FOUND.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response conflict(RunConflictException e) {
        return problem(ProblemType.CONFLICT.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unwritable(UncheckedIOException e) {
        return problem(ProblemType.INTERNAL_ERROR.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response storeUnavailable(RunStoreUnavailableException e) {
        return problem(ProblemType.UNAVAILABLE.problem(e.getMessage()));
    }

    static Response problem(Problem problem) {
        return Response.status(problem.status())
                .type(Problem.MEDIA_TYPE)
                .entity(problem)
                .build();
    }
}
