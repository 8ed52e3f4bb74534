package dev.streamtune.ingest.pipeline;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * A dataset held while a chunk is placed in its size-capped splits, so that two ingestions into the same dataset
 * cannot both see room for the same last places: on any replica through a PostgreSQL advisory lock, and first
 * within this replica, so that waiters wait without a pooled connection (see {@link DatasetLocks}).
 */
final class DatasetLock implements AutoCloseable {

    private final ReentrantLock local;
    private final Semaphore connections;
    private final Connection connection;
    private final String key;

    /** Takes the local lock, then a connection permit, then the advisory lock; gives back what it took on failure. */
    DatasetLock(ReentrantLock local, Semaphore connections, DataSource dataSource, String dataset) throws SQLException {
        this.local = local;
        this.connections = connections;
        this.key = "ingest-split:" + dataset;
        local.lock();
        try {
            connections.acquireUninterruptibly();
            try {
                this.connection = dataSource.getConnection();
                try (PreparedStatement lock =
                        connection.prepareStatement("select pg_advisory_lock(hashtextextended(?, 0))")) {
                    lock.setString(1, key);
                    lock.execute();
                } catch (SQLException e) {
                    connection.close();
                    throw e;
                }
            } catch (SQLException | RuntimeException e) {
                connections.release();
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            local.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws SQLException {
        try (connection;
                PreparedStatement unlock =
                        connection.prepareStatement("select pg_advisory_unlock(hashtextextended(?, 0))")) {
            unlock.setString(1, key);
            unlock.execute();
        } finally {
            connections.release();
            local.unlock();
        }
    }
}
