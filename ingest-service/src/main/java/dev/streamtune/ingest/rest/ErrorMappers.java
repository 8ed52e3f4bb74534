package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.pipeline.IngestionFailedException;
import dev.streamtune.ingest.pipeline.SplitConflictException;
import dev.streamtune.ingest.reader.SpooledInput;
import dev.streamtune.streams.Problem;
import dev.streamtune.streams.ProblemType;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into problem details (RFC 9457) a person can act on. */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        return problem(ProblemType.INVALID_REQUEST.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response tooLarge(SpooledInput.TooLargeException e) {
        return problem(ProblemType.CONTENT_TOO_LARGE.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response splitConflict(SplitConflictException e) {
        return problem(ProblemType.CONFLICT.problem(e.getMessage()));
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return problem(ProblemType.NOT_FOUND.problem(e.getMessage()));
    }

    /** The body carries what the ingestion had done until then as {@code partialReceipt}. */
    @ServerExceptionMapper
    public Response failed(IngestionFailedException e) {
        LOG.errorf(e, "ingestion failed: %s", e.getMessage());
        return problem(ProblemType.UNAVAILABLE
                .problem("ingestion stopped: " + e.getMessage() + "; records reported"
                        + " as published are safe, and sending the same input again only adds the rest")
                .with("partialReceipt", e.partialReceipt()));
    }

    static Response problem(Problem problem) {
        return Response.status(problem.status())
                .type(Problem.MEDIA_TYPE)
                .entity(problem)
                .build();
    }
}
