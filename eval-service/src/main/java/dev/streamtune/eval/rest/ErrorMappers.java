package dev.streamtune.eval.rest;

import dev.streamtune.eval.checkpoint.EvalStore;
import dev.streamtune.eval.checkpoint.EvalStoreUnavailableException;
import dev.streamtune.eval.report.CheckpointRanking;
import dev.streamtune.streams.ProblemType;
import jakarta.persistence.PersistenceException;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures into problem details (RFC 9457) a person can act on. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return ProblemType.NOT_FOUND.problem(e.getMessage()).asResponse();
    }

    @ServerExceptionMapper
    public Response badRequest(BadRequestException e) {
        return ProblemType.INVALID_REQUEST.problem(e.getMessage()).asResponse();
    }

    /** A metric nothing can be ranked by is the request's mistake. */
    @ServerExceptionMapper
    public Response unknownMetric(CheckpointRanking.UnknownMetric e) {
        return ProblemType.INVALID_REQUEST.problem(e.getMessage()).asResponse();
    }

    /**
     * The database failed under a request (PostgreSQL down, a connection lost or refused): not the request's mistake
     * and worth trying again, so a 503 naming the database rather than a bare 500.
     */
    @ServerExceptionMapper
    public Response storeUnavailable(EvalStoreUnavailableException e) {
        return ProblemType.UNAVAILABLE.problem(e.getMessage()).asResponse();
    }

    /** What JPA and Hibernate throw when the database fails under a read outside the store's own transactions. */
    @ServerExceptionMapper
    public Response databaseFailed(PersistenceException e) {
        return storeUnavailable(EvalStore.unavailable(e));
    }
}
