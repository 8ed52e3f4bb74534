package dev.streamtune.localstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.jboss.logging.Logger;

/**
 * A real PostgreSQL server from the binaries zonky publishes on Maven Central, on a free loopback port. The
 * services see an ordinary PostgreSQL: the same dialect, migrations and SQL as in production.
 */
public final class PostgresServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PostgresServer.class);
    public static final String DATABASE = "postgres";
    public static final String USER = "postgres";

    private volatile EmbeddedPostgres postgres;
    private final Path dataDir;
    private final int port;
    private final Thread shutdownHook;

    private PostgresServer(EmbeddedPostgres postgres, Path dataDir) {
        this.postgres = postgres;
        this.dataDir = dataDir;
        this.port = postgres.getPort();
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
        empty(dataDir);
        long startedAt = System.nanoTime();
        EmbeddedPostgres postgres = server(dataDir, LoopbackPorts.free());
        LOG.infof(
                "PostgreSQL ready on port %d in %d ms",
                postgres.getPort(), (System.nanoTime() - startedAt) / 1_000_000);
        return new PostgresServer(postgres, dataDir);
    }

    /**
     * The server on {@code dataDir}, initialised there when the folder holds no cluster yet. The data directory is
     * never removed by the server itself ({@link #close} does it), so that {@link #stopKeepingData} keeps it.
     */
    private static EmbeddedPostgres server(Path dataDir, int port) throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setServerConfig("max_connections", "200")
                // Test and local data are disposable: trade durability for speed on a shared 2-core machine.
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .setServerConfig("full_page_writes", "off")
                .start();
    }

    /**
     * Stops the server the way an outage does (every connection refused from now on), keeping its data: a fault
     * test's database going away mid-stream. {@link #startAgain} brings it back.
     */
    public void stopKeepingData() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop PostgreSQL", e);
        }
    }

    /** Starts the server stopped by {@link #stopKeepingData} again, on the same port with the same data. */
    public void startAgain() throws IOException {
        postgres = server(dataDir, port);
        LOG.infof("PostgreSQL ready again on port %d", port);
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
            empty(dataDir);
            Files.deleteIfExists(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop PostgreSQL", e);
        }
    }

    private static void empty(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                if (!path.equals(dir)) {
                    Files.delete(path);
                }
            }
        }
    }
}
