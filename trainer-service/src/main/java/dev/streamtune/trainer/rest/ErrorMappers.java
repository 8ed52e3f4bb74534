package dev.streamtune.trainer.rest;

import dev.streamtune.events.recipe.RecipeException;
import dev.streamtune.trainer.plan.RecipeProblemsException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into JSON error bodies a person can act on. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response unreadable(RecipeException e) {
        return Response.status(400).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(400, "the recipe is refused", e.problems())).build();
    }

    @ServerExceptionMapper
    public Response unusable(RecipeProblemsException e) {
        return Response.status(400).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(400, "the recipe cannot be trained", e.problems())).build();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(404, e.getMessage());
    }

    @ServerExceptionMapper
    public Response conflict(dev.streamtune.trainer.service.RunConflictException e) {
        return error(409, e.getMessage());
    }

    @ServerExceptionMapper
    public Response unwritable(java.io.UncheckedIOException e) {
        return error(500, e.getMessage());
    }

    @ServerExceptionMapper
    public Response storeUnavailable(dev.streamtune.trainer.run.RunStoreUnavailableException e) {
        return error(503, e.getMessage());
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(status, message)).build();
    }
}
