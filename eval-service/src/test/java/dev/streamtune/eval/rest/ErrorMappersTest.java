package dev.streamtune.eval.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.streamtune.eval.report.CheckpointRanking;
import dev.streamtune.streams.Problem;
import jakarta.persistence.PersistenceException;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

class ErrorMappersTest {

    private final ErrorMappers mappers = new ErrorMappers();

    @Test
    void aMissingThingIsA404ProblemWithItsMessage() {
        assertProblem(
                mappers.notFound(new NotFoundException("evaluation 7 does not exist")),
                404,
                "urn:streamtune:problem:not-found",
                "Not found",
                "evaluation 7 does not exist");
    }

    @Test
    void aBadRequestIsA400Problem() {
        assertProblem(
                mappers.badRequest(new BadRequestException("split 'x': expected valid or test")),
                400,
                "urn:streamtune:problem:invalid-request",
                "Invalid request",
                "split 'x': expected valid or test");
    }

    @Test
    void anUnknownMetricIsTheRequestsMistake() {
        CheckpointRanking.UnknownMetric unknown = catchThrowableOfType(
                CheckpointRanking.UnknownMetric.class, () -> CheckpointRanking.Metric.parse("bleu"));
        assertProblem(
                mappers.unknownMetric(unknown),
                400,
                "urn:streamtune:problem:invalid-request",
                "Invalid request",
                "metric 'bleu': expected <split>_<measure>");
    }

    /** As Hibernate fails a query when PostgreSQL has gone away: the driver's words reach the caller, as a 503. */
    @Test
    void aDatabaseThatFailsUnderARequestIsA503NamingTheDatabase() {
        PersistenceException lost = new JDBCConnectionException(
                "JDBC exception executing SQL [select ...]",
                new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE));
        assertProblem(
                mappers.databaseFailed(lost),
                503,
                "urn:streamtune:problem:unavailable",
                "Service unavailable",
                "the database failed: An I/O error occurred while sending to the backend.");
    }

    private static void assertProblem(Response response, int status, String type, String title, String detail) {
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getMediaType()).hasToString("application/problem+json");
        assertThat(response.getEntity()).isInstanceOfSatisfying(Problem.class, problem -> {
            assertThat(problem.status()).isEqualTo(status);
            assertThat(problem.type()).isEqualTo(type);
            assertThat(problem.title()).isEqualTo(title);
            assertThat(problem.detail()).contains(detail);
        });
    }
}
