package dev.streamtune.format.rest;

import dev.streamtune.streams.Problem;
import dev.streamtune.streams.ProblemType;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into problem details (RFC 9457), the error body every service answers. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return problem(ProblemType.NOT_FOUND.problem(e.getMessage()));
    }

    static Response problem(Problem problem) {
        return Response.status(problem.status())
                .type(Problem.MEDIA_TYPE)
                .entity(problem)
                .build();
    }
}
