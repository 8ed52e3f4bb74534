package dev.streamtune.eval.rest;

import dev.streamtune.eval.report.CheckpointRanking;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into JSON error bodies a person can act on. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(404, e.getMessage());
    }

    @ServerExceptionMapper
    public Response badRequest(BadRequestException e) {
        return error(400, e.getMessage());
    }

    /** A metric nothing can be ranked by is the request's mistake. */
    @ServerExceptionMapper
    public Response unknownMetric(CheckpointRanking.UnknownMetric e) {
        return error(400, e.getMessage());
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(new ApiError(status, message)).build();
    }
}
