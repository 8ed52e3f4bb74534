package dev.streamtune.ingest.pipeline;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * A PostgreSQL advisory lock on a dataset, held while size-capped splits are filled, so that two ingestions into
 * the same dataset (on any replica) cannot both see room for the same last places.
 */
final class DatasetLock implements AutoCloseable {

    private final Connection connection;
    private final String dataset;

    DatasetLock(DataSource dataSource, String dataset) throws SQLException {
        this.connection = dataSource.getConnection();
        this.dataset = dataset;
        try (PreparedStatement lock = connection.prepareStatement("select pg_advisory_lock(hashtextextended(?, 0))")) {
            lock.setString(1, "ingest-split:" + dataset);
            lock.execute();
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
    }

    @Override
    public void close() throws SQLException {
        try (connection; PreparedStatement unlock =
                connection.prepareStatement("select pg_advisory_unlock(hashtextextended(?, 0))")) {
            unlock.setString(1, "ingest-split:" + dataset);
            unlock.execute();
        }
    }
}
