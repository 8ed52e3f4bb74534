package dev.streamtune.eval.checkpoint;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.streamtune.streams.StartOverException;
import io.quarkus.narayana.jta.QuarkusTransactionException;
import jakarta.transaction.RollbackException;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.hibernate.exception.GenericJDBCException;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * A failure of the database under any call of the store comes out as {@link EvalStoreUnavailableException}, which
 * the stage framework answers by starting over; a failure of the work's own code comes out as it was thrown.
 */
class EvalStoreTest {

    private static EvalStore failingWith(RuntimeException failure) {
        return new EvalStore(work -> {
            throw failure;
        }) {};
    }

    @Test
    void aConnectionLostIsTheDatabaseUnavailable() {
        EvalStore store = failingWith(new JDBCConnectionException(
                "JDBC exception executing SQL",
                new PSQLException(
                        "FATAL: terminating connection due to administrator command", PSQLState.CONNECTION_FAILURE)));

        assertThatThrownBy(() -> store.known("r", "sha256:00"))
                .isInstanceOf(EvalStoreUnavailableException.class)
                .isInstanceOf(StartOverException.class)
                .hasMessage("the database failed: FATAL: terminating connection due to administrator command");
    }

    @Test
    void noConnectionToGiveAndACommitThatFailedAreTheDatabaseUnavailable() {
        // Agroal's answer when every connection is taken (or none can be opened), as Hibernate wraps it
        EvalStore exhausted = failingWith(new GenericJDBCException(
                "Unable to acquire JDBC Connection", new SQLException("Sorry, acquisition timeout!")));
        assertThatThrownBy(() -> exhausted.recordCheckpoints(List.of(), Map.of(), "checkpoints", "checkpoints"))
                .isInstanceOf(EvalStoreUnavailableException.class);

        EvalStore rolledBack = failingWith(
                new QuarkusTransactionException(new RollbackException("ARJUNA016053: Could not commit transaction.")));
        assertThatThrownBy(() -> rolledBack.evaluations("r"))
                .isInstanceOf(EvalStoreUnavailableException.class)
                .hasMessageContaining("Could not commit transaction");
    }

    @Test
    void aFailureOfTheWorksOwnCodeIsNotTheDatabase() {
        IllegalStateException bug = new IllegalStateException("stored generation metrics are not JSON: {");
        EvalStore store = failingWith(bug);

        assertThatThrownBy(() -> store.evaluations("r")).isSameAs(bug);
    }
}
