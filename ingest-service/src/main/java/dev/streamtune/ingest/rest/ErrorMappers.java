package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.pipeline.IngestionFailedException;
import dev.streamtune.ingest.pipeline.SplitConflictException;
import dev.streamtune.ingest.reader.SpooledInput;
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
        return ProblemType.INVALID_REQUEST.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response tooLarge(SpooledInput.TooLargeException e) {
        return ProblemType.CONTENT_TOO_LARGE.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response splitConflict(SplitConflictException e) {
        return ProblemType.CONFLICT.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return ProblemType.NOT_FOUND.problem(e.getMessage()).asResponse();
    }

    /** The body carries what the ingestion had done until then as {@code partialReceipt}. */
    @ServerExceptionMapper
    public Response failed(IngestionFailedException e) {
        LOG.errorf(e, "ingestion failed: %s", e.getMessage());
        return ProblemType.UNAVAILABLE
                .problem("ingestion stopped: " + e.getMessage() + "; records reported"
                        + " as published are safe, and sending the same input again only adds the rest")
                .with("partialReceipt", e.partialReceipt())
                .asResponse();
    }
}
