package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.pipeline.IngestionFailedException;
import dev.streamtune.ingest.pipeline.SplitConflictException;
import dev.streamtune.ingest.reader.SpooledInput;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into JSON error bodies a person can act on. */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        return error(400, e.getMessage());
    }

    @ServerExceptionMapper
    public Response tooLarge(SpooledInput.TooLargeException e) {
        return error(413, e.getMessage());
    }

    @ServerExceptionMapper
    public Response splitConflict(SplitConflictException e) {
        return error(409, e.getMessage());
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(404, e.getMessage());
    }

    @ServerExceptionMapper
    public Response failed(IngestionFailedException e) {
        LOG.errorf(e, "ingestion failed: %s", e.getMessage());
        return Response.status(503).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(503, "ingestion stopped: " + e.getMessage() + "; records reported as published"
                        + " are safe, and sending the same input again only adds the rest", e.partialReceipt()))
                .build();
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(status, message)).build();
    }
}
