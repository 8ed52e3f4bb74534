package dev.streamtune.trainer.rest;

import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.streams.ProblemType;
import dev.streamtune.trainer.plan.RecipeProblemsException;
import dev.streamtune.trainer.run.RunStoreUnavailableException;
import dev.streamtune.trainer.service.RunConflictException;
import jakarta.ws.rs.BadRequestException;
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
        return ProblemType.RECIPE_REFUSED
                .problem("the recipe is refused")
                .with("problems", e.problems())
                .asResponse();
    }

    @ServerExceptionMapper
    public Response unusable(RecipeProblemsException e) {
        return ProblemType.RECIPE_REFUSED
                .problem("the recipe cannot be trained")
                .with("problems", e.problems())
                .asResponse();
    }

    @ServerExceptionMapper
    public Response badRequest(BadRequestException e) {
        return ProblemType.INVALID_REQUEST.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return ProblemType.NOT_FOUND.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response conflict(RunConflictException e) {
        return ProblemType.CONFLICT.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response unwritable(UncheckedIOException e) {
        return ProblemType.INTERNAL_ERROR.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response storeUnavailable(RunStoreUnavailableException e) {
        return ProblemType.UNAVAILABLE.problem(e.getMessage()).asResponse();
    }
}
