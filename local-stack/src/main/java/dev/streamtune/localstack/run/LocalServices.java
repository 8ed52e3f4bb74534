package dev.streamtune.localstack.run;

import dev.streamtune.localstack.DatabaseEndpoint;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The five services of a local run as child JVMs, started the way they run in production (their quarkus-app jars,
 * configured through the environment), in pipeline order, each awaited on its readiness endpoint. Logs go to
 * {@code <service>.log}, checkpoints to {@code checkpoints/}, in the stack's {@link #workFolder}.
 *
 * @param ingest   port 8081 when started on the services' own ports
 * @param format   8082
 * @param tokenize 8083
 * @param trainer  8084
 * @param eval     8085, which also serves the page at /watch/
 */
public record LocalServices(ServiceProcess ingest, ServiceProcess format, ServiceProcess tokenize,
                            ServiceProcess trainer, ServiceProcess eval) implements AutoCloseable {

    /**
     * Starts the five services against {@code kafka} and {@code database}. On their own ports (8081-8085, what the
     * README's curl commands use) when {@code ownPorts}, else on free ones, so that a run never collides with a stack
     * already up. Recipes name models and tokenizers relative to {@code modelRoot}.
     */
    public static LocalServices start(Path root, Path modelRoot, String kafka, DatabaseEndpoint database,
                                      boolean ownPorts) throws IOException, InterruptedException {
        Path logs = workFolder(root, ownPorts);
        Path checkpoints = checkpoints(root, ownPorts);
        // The broker and the database are new: checkpoints left by an earlier stack hold offsets of topics that no
        // longer exist, and a run of the same recipe would resume from them (and find itself finished).
        deleteTree(checkpoints);
        Files.createDirectories(checkpoints);
        Map<String, String> db = Map.of(
                "QUARKUS_DATASOURCE_JDBC_URL", database.jdbcUrl(),
                "QUARKUS_DATASOURCE_USERNAME", database.username(),
                "QUARKUS_DATASOURCE_PASSWORD", database.password());
        ServiceProcess ingest = null;
        ServiceProcess format = null;
        ServiceProcess tokenize = null;
        ServiceProcess trainer = null;
        try {
            ingest = ServiceProcess.start(root, "ingest-service", port(8081, ownPorts), with(db,
                    "KAFKA_BOOTSTRAP_SERVERS", kafka), logs);
            format = ServiceProcess.start(root, "format-service", port(8082, ownPorts), Map.of(
                    "KAFKA_BOOTSTRAP_SERVERS", kafka, "FORMAT_MODEL_ROOT", modelRoot.toString()), logs);
            tokenize = ServiceProcess.start(root, "tokenize-service", port(8083, ownPorts), Map.of(
                    "KAFKA_BOOTSTRAP_SERVERS", kafka, "TOKENIZE_MODEL_ROOT", modelRoot.toString()), logs);
            trainer = ServiceProcess.start(root, "trainer-service", port(8084, ownPorts), with(db,
                    "KAFKA_BOOTSTRAP_SERVERS", kafka,
                    "TRAINER_MODEL_ROOT", modelRoot.toString(),
                    "TRAINER_CHECKPOINT_ROOT", checkpoints.toString(),
                    "TRAINER_CHECKPOINT_WHEN_IDLE", "PT3S",
                    // the local data arrives at once: a few quiet seconds close a run's first pass
                    "TRAINER_STREAM_END_AFTER", "PT3S"), logs);
            ServiceProcess eval = ServiceProcess.start(root, "eval-service", port(8085, ownPorts), with(db,
                    "KAFKA_BOOTSTRAP_SERVERS", kafka,
                    "EVAL_MODEL_ROOT", modelRoot.toString(),
                    "EVAL_CHECKPOINT_ROOT", checkpoints.toString(),
                    // the local data arrives at once: its eval sets are complete after a few quiet seconds
                    "EVAL_SETTLE_AFTER", "PT3S",
                    "EVAL_WATCH_TRAINER_URL", trainer.uri("").toString(),
                    "EVAL_WATCH_FORMAT_URL", format.uri("").toString(),
                    "EVAL_WATCH_TOKENIZE_URL", tokenize.uri("").toString(),
                    // a local run lasts minutes: sample the lag chart every two seconds
                    "EVAL_WATCH_LAG_INTERVAL", "PT2S"), logs);
            return new LocalServices(ingest, format, tokenize, trainer, eval);
        } catch (IOException | InterruptedException | RuntimeException e) {
            for (ServiceProcess started : new ServiceProcess[] {trainer, tokenize, format, ingest}) {
                if (started != null) {
                    started.close();
                }
            }
            throw e;
        }
    }

    private static Map<String, String> with(Map<String, String> base, String... pairs) {
        Map<String, String> all = new HashMap<>(base);
        for (int i = 0; i < pairs.length; i += 2) {
            all.put(pairs[i], pairs[i + 1]);
        }
        return all;
    }

    private static int port(int own, boolean ownPorts) throws IOException {
        if (!ownPorts) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return socket.getLocalPort();
            }
        }
        try (ServerSocket probe = new ServerSocket(own)) {
            return own;
        } catch (IOException e) {
            throw new IllegalStateException("port " + own + " is taken (is a stack already up? ./run-local down stops it)");
        }
    }

    /**
     * One line per service that is not well: exited (with its status), or logging errors; each names the log to
     * read. Empty when all five run without an error logged.
     */
    public java.util.List<String> problems() {
        java.util.List<String> problems = new java.util.ArrayList<>();
        for (ServiceProcess service : new ServiceProcess[] {ingest, format, tokenize, trainer, eval}) {
            Integer status = service.exitStatus();
            String error = service.lastError();
            if (status != null) {
                problems.add(service.name() + " exited with status " + status + (error == null ? "" : ": " + error)
                        + " (log: " + service.log() + ")");
            } else if (error != null) {
                problems.add(service.name() + " logged: " + error + " (log: " + service.log() + ")");
            }
        }
        return problems;
    }

    @Override
    public void close() {
        for (ServiceProcess service : new ServiceProcess[] {eval, trainer, tokenize, format, ingest}) {
            service.close();
        }
    }

    /**
     * Where a stack writes its logs and checkpoints: {@code local-run/} for {@code ./run-local}, {@code local-run/up/}
     * for the stack {@code ./run-local up} keeps running, so that a run beside it does not clear its checkpoints.
     */
    public static Path workFolder(Path root, boolean ownPorts) {
        return ownPorts ? root.resolve("local-run/up") : root.resolve("local-run");
    }

    public static Path checkpoints(Path root, boolean ownPorts) {
        return workFolder(root, ownPorts).resolve("checkpoints");
    }

    private static void deleteTree(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (var paths = Files.walk(folder)) {
            for (Path path : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }
}
