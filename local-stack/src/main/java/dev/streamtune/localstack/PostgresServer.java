package dev.streamtune.localstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * A real PostgreSQL server from the binaries zonky publishes on Maven Central, on a free loopback port. The
 * services see an ordinary PostgreSQL: the same dialect, migrations and SQL as in production.
 */
public final class PostgresServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PostgresServer.class);
    public static final String DATABASE = "postgres";
    public static final String USER = "postgres";

    private final EmbeddedPostgres postgres;
    private final Thread shutdownHook;

    private PostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
        this.shutdownHook = new Thread(this::closeQuietly, "postgres-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts a fresh cluster in a temporary directory, removed when the server stops. */
    public static PostgresServer startTemporary() throws IOException {
        return start(Files.createTempDirectory("streamtune-postgres-"));
    }

    /** Starts a fresh cluster in {@code dataDir} (emptied first, and removed when the server stops). */
    public static PostgresServer start(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        long startedAt = System.nanoTime();
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(true)
                .setPort(LoopbackPorts.free())
                .setServerConfig("max_connections", "200")
                // Test and local data are disposable: trade durability for speed on a shared 2-core machine.
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .start();
        LOG.infof(
                "PostgreSQL ready on port %d in %d ms",
                postgres.getPort(), (System.nanoTime() - startedAt) / 1_000_000);
        return new PostgresServer(postgres);
    }

    public DatabaseEndpoint endpoint() {
        return new DatabaseEndpoint(postgres.getJdbcUrl(USER, DATABASE), USER, "postgres");
    }

    public int port() {
        return postgres.getPort();
    }

    @Override
    public void close() {
        closeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // Called from another shutdown hook.
        }
    }

    private void closeQuietly() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop PostgreSQL", e);
        }
    }
}
