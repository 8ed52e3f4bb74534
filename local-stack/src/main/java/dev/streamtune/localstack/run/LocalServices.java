package dev.streamtune.localstack.run;

import dev.streamtune.localstack.DatabaseEndpoint;
import dev.streamtune.localstack.LoopbackPorts;
import dev.streamtune.streams.KafkaSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The five services of a stack as child JVMs, started the way they run in production (their quarkus-app jars,
 * configured through the environment), in pipeline order, each awaited on its readiness endpoint: what
 * {@code ./run-local} runs, and what the end-to-end tests run with their own timings ({@link #stack}).
 *
 * @param ingest   port 8081 when started on the services' own ports
 * @param format   8082
 * @param tokenize 8083
 * @param trainer  8084; null for a stack started without training ({@link Stack#withoutTraining})
 * @param eval     8085, which also serves the page at /watch/; null without training
 */
public record LocalServices(
        ServiceProcess ingest,
        ServiceProcess format,
        ServiceProcess tokenize,
        ServiceProcess trainer,
        ServiceProcess eval)
        implements AutoCloseable {

    public static final String INGEST = "ingest-service";
    public static final String FORMAT = "format-service";
    public static final String TOKENIZE = "tokenize-service";
    public static final String TRAINER = "trainer-service";
    public static final String EVAL = "eval-service";

    /**
     * The stack of {@code ./run-local} ({@code ownPorts}: that of {@code ./run-local up}, on ports 8081-8085, what
     * the README's curl commands use; else on free ones, so that a run never collides with a stack already up).
     * Logs go to {@code <service>.log} and checkpoints to {@code checkpoints/} in its {@link #workFolder}; recipes
     * name models and tokenizers relative to {@code modelRoot}.
     */
    public static LocalServices start(
            Path root, Path modelRoot, String kafka, DatabaseEndpoint database, boolean ownPorts)
            throws IOException, InterruptedException {
        return start(root, modelRoot, kafka, database, ownPorts, null);
    }

    /** As {@link #start(Path, Path, String, DatabaseEndpoint, boolean)}, writes needing {@code apiToken} when set. */
    public static LocalServices start(
            Path root, Path modelRoot, String kafka, DatabaseEndpoint database, boolean ownPorts, String apiToken)
            throws IOException, InterruptedException {
        return start(root, modelRoot, KafkaSettings.bootstrap(kafka), database, ownPorts, apiToken);
    }

    /**
     * As {@link #start(Path, Path, String, DatabaseEndpoint, boolean, String)}, on a cluster reached with these
     * client settings (TLS, SASL), which every service is given.
     */
    public static LocalServices start(
            Path root,
            Path modelRoot,
            KafkaSettings kafka,
            DatabaseEndpoint database,
            boolean ownPorts,
            String apiToken)
            throws IOException, InterruptedException {
        return stack(root, kafka, database)
                .apiToken(apiToken)
                .modelRoot(modelRoot)
                .logs(workFolder(root, ownPorts))
                // The broker and the database are new: checkpoints left by an earlier stack hold offsets of topics
                // that no longer exist, and a run of the same recipe would resume from them (and find itself finished).
                .checkpoints(checkpoints(root, ownPorts), true)
                .ownPorts(ownPorts)
                .set(TRAINER, "TRAINER_CHECKPOINT_WHEN_IDLE", "PT3S")
                // the local data arrives at once: a few quiet seconds close a run's first pass, and complete its eval
                // sets
                .set(TRAINER, "TRAINER_STREAM_END_AFTER", "PT3S")
                .set(EVAL, "EVAL_SETTLE_AFTER", "PT3S")
                // a local run lasts minutes: sample the lag chart every two seconds
                .set(EVAL, "EVAL_WATCH_LAG_INTERVAL", "PT2S")
                .start();
    }

    /** A stack to configure, then {@link Stack#start}: by default the five services on free ports. */
    public static Stack stack(Path root, String kafka, DatabaseEndpoint database) {
        return stack(root, KafkaSettings.bootstrap(kafka), database);
    }

    /**
     * As {@link #stack(Path, String, DatabaseEndpoint)}, on a cluster reached with these client settings (TLS,
     * SASL): every service is given them as the {@code KAFKA_*} variables a deployment sets.
     */
    public static Stack stack(Path root, KafkaSettings kafka, DatabaseEndpoint database) {
        return new Stack(root, kafka, database);
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

    /**
     * What one stack needs: the repository (the services' jars), the broker and database, where models, logs and
     * checkpoints are, which ports, and settings added to (or replacing) each service's production ones.
     */
    public static final class Stack {
        private final Path root;
        private final KafkaSettings kafka;
        private final DatabaseEndpoint database;
        private Path modelRoot;
        private Path logs;
        private Path checkpoints;
        private boolean clearCheckpoints;
        private boolean ownPorts;
        private boolean training = true;
        private final Map<String, Map<String, String>> settings = new HashMap<>();

        private Stack(Path root, KafkaSettings kafka, DatabaseEndpoint database) {
            this.root = root;
            this.kafka = kafka;
            this.database = database;
            this.modelRoot = root;
            this.logs = root.resolve("local-run");
            this.checkpoints = root.resolve("local-run/checkpoints");
        }

        /** Where recipes' models and tokenizers are read (format, tokenize, trainer, eval). */
        public Stack modelRoot(Path folder) {
            modelRoot = folder;
            return this;
        }

        public Stack logs(Path folder) {
            logs = folder;
            return this;
        }

        /** The checkpoint volume trainer and evaluator share; {@code clear}: emptied first. */
        public Stack checkpoints(Path folder, boolean clear) {
            checkpoints = folder;
            clearCheckpoints = clear;
            return this;
        }

        /** On ports 8081-8085 (refused when one is taken), instead of free ones. */
        public Stack ownPorts(boolean own) {
            ownPorts = own;
            return this;
        }

        /**
         * The bearer token writes to ingest's and trainer's REST APIs need ({@code Authorization: Bearer}); null:
         * writes are open, as they are to a process on this machine's loopback only.
         */
        public Stack apiToken(String token) {
            if (token != null) {
                set(INGEST, "INGEST_AUTH_TOKEN", token);
                set(TRAINER, "TRAINER_AUTH_TOKEN", token);
            }
            return this;
        }

        /** Ingest, format and tokenize only. */
        public Stack withoutTraining() {
            training = false;
            return this;
        }

        /** A setting of one service's environment, over what the stack gives it. */
        public Stack set(String service, String variable, String value) {
            settings.computeIfAbsent(service, s -> new LinkedHashMap<>()).put(variable, value);
            return this;
        }

        /**
         * Starts the services, all at once, and waits until each is ready (a service's start is mostly waiting on the
         * broker and the database, so starting them one after the other took about as long again); on a failure,
         * stops those already started.
         */
        public LocalServices start() throws IOException, InterruptedException {
            if (training) {
                if (clearCheckpoints) {
                    deleteTree(checkpoints);
                }
                Files.createDirectories(checkpoints);
            }
            Map<String, String> db = Map.of(
                    "QUARKUS_DATASOURCE_JDBC_URL", database.jdbcUrl(),
                    "QUARKUS_DATASOURCE_USERNAME", database.username(),
                    "QUARKUS_DATASOURCE_PASSWORD", database.password());
            List<ServiceProcess> started = new ArrayList<>();
            try {
                ServiceProcess ingest = start(INGEST, 8081, started, db);
                ServiceProcess format = start(FORMAT, 8082, started, Map.of("FORMAT_MODEL_ROOT", modelRoot.toString()));
                ServiceProcess tokenize =
                        start(TOKENIZE, 8083, started, Map.of("TOKENIZE_MODEL_ROOT", modelRoot.toString()));
                if (!training) {
                    awaitReady(started);
                    return new LocalServices(ingest, format, tokenize, null, null);
                }
                Map<String, String> trainer = new HashMap<>(db);
                trainer.put("TRAINER_MODEL_ROOT", modelRoot.toString());
                trainer.put("TRAINER_CHECKPOINT_ROOT", checkpoints.toString());
                ServiceProcess trainerService = start(TRAINER, 8084, started, trainer);
                Map<String, String> eval = new HashMap<>(db);
                eval.put("EVAL_MODEL_ROOT", modelRoot.toString());
                eval.put("EVAL_CHECKPOINT_ROOT", checkpoints.toString());
                // what the page at /watch reads beside eval-service's own results
                eval.put("EVAL_WATCH_TRAINER_URL", trainerService.uri("").toString());
                eval.put("EVAL_WATCH_FORMAT_URL", format.uri("").toString());
                eval.put("EVAL_WATCH_TOKENIZE_URL", tokenize.uri("").toString());
                ServiceProcess evalService = start(EVAL, 8085, started, eval);
                awaitReady(started);
                return new LocalServices(ingest, format, tokenize, trainerService, evalService);
            } catch (IOException | InterruptedException | RuntimeException e) {
                for (int i = started.size() - 1; i >= 0; i--) {
                    started.get(i).close();
                }
                throw e;
            }
        }

        private final Set<Integer> handedOut = new HashSet<>();

        private static void awaitReady(List<ServiceProcess> started) throws IOException, InterruptedException {
            for (ServiceProcess service : started) {
                service.awaitReady();
            }
        }

        private ServiceProcess start(
                String service, int ownPort, List<ServiceProcess> started, Map<String, String> environment)
                throws IOException, InterruptedException {
            Map<String, String> all = new HashMap<>(environment);
            all.putAll(kafka.environment());
            all.putAll(settings.getOrDefault(service, Map.of()));
            int port = port(ownPort, ownPorts);
            while (!handedOut.add(port)) { // none of the others has bound its port yet: never give one out twice
                port = port(ownPort, ownPorts);
            }
            ServiceProcess process = ServiceProcess.startUnready(root, service, port, all, logs);
            started.add(process);
            return process;
        }
    }

    private static int port(int own, boolean ownPorts) throws IOException {
        if (!ownPorts) {
            return LoopbackPorts.free();
        }
        try (ServerSocket probe = new ServerSocket(own)) {
            return own;
        } catch (IOException e) {
            throw new IllegalStateException(
                    "port " + own + " is taken (is a stack already up? ./run-local down stops it)");
        }
    }

    /**
     * One line per service that is not well: exited (with its status), or logging errors; each names the log to
     * read. Empty when all run without an error logged.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        for (ServiceProcess service : running()) {
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

    /** The services started, in pipeline order. */
    public List<ServiceProcess> running() {
        List<ServiceProcess> all = new ArrayList<>();
        for (ServiceProcess service : new ServiceProcess[] {ingest, format, tokenize, trainer, eval}) {
            if (service != null) {
                all.add(service);
            }
        }
        return all;
    }

    @Override
    public void close() {
        List<ServiceProcess> all = running();
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
    }

    private static void deleteTree(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (var paths = Files.walk(folder)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }
}
