package dev.streamtune.ingest.pipeline;

import io.agroal.api.AgroalDataSource;
import java.sql.SQLException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hands out {@link DatasetLock}s without letting lock waiters starve the connection pool. A waiter on the advisory
 * lock holds a connection while it waits, and the holder needs more connections to place its chunk: with one
 * waiter per pooled connection the holder could never finish. So within a replica, ingestions of one dataset queue
 * on a local lock (without a connection), and at most a quarter of the pool is ever held by dataset locks; only
 * waiters for another replica's lock wait inside PostgreSQL.
 *
 * <p>The local locks are a fixed set of stripes by dataset name: memory does not grow with the number of
 * datasets, at the cost of two datasets sharing a stripe now and then waiting for each other.
 */
final class DatasetLocks {

    private static final int STRIPES = 64;

    private final AgroalDataSource dataSource;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Semaphore connections;

    DatasetLocks(AgroalDataSource dataSource) {
        this(
                dataSource,
                dataSource.getConfiguration().connectionPoolConfiguration().maxSize());
    }

    DatasetLocks(AgroalDataSource dataSource, int poolSize) {
        this.dataSource = dataSource;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock(true);
        }
        this.connections = new Semaphore(Math.max(1, poolSize / 4), true);
    }

    DatasetLock lock(String dataset) throws SQLException {
        return new DatasetLock(stripes[Math.floorMod(dataset.hashCode(), STRIPES)], connections, dataSource, dataset);
    }
}
