package dev.streamtune.tokenize.rest;

import dev.streamtune.streams.ProblemType;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into problem details (RFC 9457), the error body every service answers. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return ProblemType.NOT_FOUND.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response badRequest(BadRequestException e) {
        return ProblemType.INVALID_REQUEST.problem(e.getMessage()).asResponse();
    }
}
