package dev.streamtune.localstack;

import dev.streamtune.streams.KafkaSettings;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A real, single-node Apache Kafka KRaft broker (broker and controller in one) running in a child JVM.
 *
 * <p>The broker runs out of process because Kafka's server jars pin their own kafka-clients, Scala and Jackson,
 * which would clash with the versions the Quarkus services use. Its classpath is resolved by the build (module
 * local-stack/kafka-broker) and written to a file this class reads.
 *
 * <p>Clients reach it over PLAINTEXT, or, started with {@link ScramOverTls}, only over SASL_SSL with SCRAM-SHA-512
 * as a production cluster asks of them.
 *
 * <p>Lifecycle: {@link #start(Path)} formats the storage, launches the JVM and returns once the broker logs
 * "Kafka Server started"; {@link #close()} sends SIGTERM for Kafka's clean shutdown. A JVM shutdown hook closes a
 * broker that was not closed, and the child exits by itself when this JVM dies without running hooks (see
 * KafkaBrokerMain).
 */
public final class KafkaBroker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(KafkaBroker.class);
    private static final String CLASSPATH_RESOURCE = "/dev/streamtune/localstack/kafka-broker.classpath";
    private static final String MAIN_CLASS = "dev.streamtune.localstack.broker.KafkaBrokerMain";
    private static final String READY_LINE = "Kafka Server started";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int LOG_TAIL_LINES = 200;
    private static final int START_ATTEMPTS = 3;

    private volatile Process process;
    private final String bootstrapServers;
    private final Path logFile;
    private final Path temporaryDir;
    private final Thread shutdownHook;

    private KafkaBroker(Process process, String bootstrapServers, Path logFile, Path temporaryDir) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
        this.logFile = logFile;
        this.temporaryDir = temporaryDir;
        this.shutdownHook = new Thread(this::stopProcess, "kafka-broker-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts a broker whose data and log live under {@code workDir}, on free loopback ports. */
    public static KafkaBroker start(Path workDir) throws IOException {
        return start(workDir, Map.of());
    }

    /** Starts a broker in a fresh temporary directory, deleted once the broker has stopped. */
    public static KafkaBroker startTemporary() throws IOException {
        Path dir = Files.createTempDirectory("streamtune-kafka-");
        Launch launch = startOnceOrRetry(dir, Map.of(), null);
        return new KafkaBroker(launch.process(), launch.bootstrapServers(), launch.logFile(), dir);
    }

    /**
     * Starts a broker under {@code workDir} whose only client listener is SASL_SSL with SCRAM-SHA-512, knowing the
     * users {@code security} names.
     */
    public static KafkaBroker start(Path workDir, ScramOverTls security) throws IOException {
        Launch launch = startOnceOrRetry(workDir, Map.of(), security);
        return new KafkaBroker(launch.process(), launch.bootstrapServers(), launch.logFile(), null);
    }

    /**
     * A client listener that takes SASL_SSL only, authenticating with SCRAM-SHA-512: the broker presents the key in
     * {@code keyStore} and, connecting to its own listener, trusts the certificates in {@code trustStore} (both
     * PKCS12 under {@code storePassword}; the broker's certificate must name 127.0.0.1, since clients verify the
     * host). {@code users} maps each SCRAM user name to its password; their credentials are written with the
     * storage, before the broker first starts. The controller listener stays PLAINTEXT on loopback: only the
     * broker inside the same process talks to it.
     */
    public record ScramOverTls(Path keyStore, Path trustStore, String storePassword, Map<String, String> users) {

        /** What Kafka calls the mechanism, in {@code sasl.mechanism} and {@code sasl.enabled.mechanisms}. */
        public static final String MECHANISM = "SCRAM-SHA-512";

        /** The broker's own user, for the connections it makes to its listener (inter-broker traffic). */
        static final String BROKER_USER = "kafka-broker";

        // The storage tool reads a credential as name=...,password=... inside brackets: no room for separators.
        private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._-]+");

        public ScramOverTls {
            Objects.requireNonNull(keyStore, "keyStore");
            Objects.requireNonNull(trustStore, "trustStore");
            Objects.requireNonNull(storePassword, "storePassword");
            users = Map.copyOf(users);
            users.forEach((name, password) -> {
                if (!PLAIN.matcher(name).matches() || !PLAIN.matcher(password).matches()) {
                    throw new IllegalArgumentException("SCRAM user " + name + ": user names and passwords of the"
                            + " local broker may hold only letters, digits, '.', '_' and '-'");
                }
                if (name.equals(BROKER_USER)) {
                    throw new IllegalArgumentException("SCRAM user " + name + " is the broker's own");
                }
            });
        }

        /** The JAAS line a client (or the broker, for itself) logs in with. */
        public static String jaasConfig(String user, String password) {
            return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                    + "\" password=\"" + password + "\";";
        }
    }

    /** A started broker process. */
    private record Launch(Process process, String bootstrapServers, Path logFile) {}

    /**
     * Starts a broker with extra broker settings layered over the defaults. A port taken between choosing it and
     * binding it is retried on fresh ports.
     */
    public static KafkaBroker start(Path workDir, Map<String, String> overrides) throws IOException {
        Launch launch = startOnceOrRetry(workDir, overrides, null);
        return new KafkaBroker(launch.process(), launch.bootstrapServers(), launch.logFile(), null);
    }

    /** {@code security} null: a PLAINTEXT client listener. */
    private static Launch startOnceOrRetry(Path workDir, Map<String, String> overrides, ScramOverTls security)
            throws IOException {
        BrokerStartException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            try {
                return startOnce(workDir, overrides, security);
            } catch (BrokerStartException e) {
                last = e;
                if (!e.portClash) {
                    throw e;
                }
                LOG.warn("Kafka broker port was taken, retrying on other ports");
            }
        }
        throw last;
    }

    private static Launch startOnce(Path workDir, Map<String, String> overrides, ScramOverTls security)
            throws IOException {
        Files.createDirectories(workDir);
        int brokerPort = LoopbackPorts.free();
        int controllerPort = LoopbackPorts.free();
        Path config = workDir.resolve("server.properties");
        Map<String, String> layered = overrides;
        Path credentials = null;
        if (security != null) {
            String brokerPassword = UUID.randomUUID().toString();
            layered = new HashMap<>(scramOverTlsSettings(security, brokerPort, controllerPort, brokerPassword));
            layered.putAll(overrides);
            credentials = writeScramCredentials(workDir.resolve("scram-credentials"), security, brokerPassword);
        }
        writeConfig(config, workDir.resolve("data"), brokerPort, controllerPort, layered);
        Path logFile = workDir.resolve("broker.log");

        ProcessBuilder builder = new ProcessBuilder(javaCommand(config, credentials))
                .redirectErrorStream(true)
                .directory(workDir.toFile());
        long startedAt = System.nanoTime();
        Process process = builder.start();
        LogPump pump = new LogPump(process.getInputStream(), logFile);
        pump.start();
        awaitReady(process, pump, logFile);
        LOG.infof(
                "Kafka broker ready on 127.0.0.1:%d in %d ms (pid %d)",
                brokerPort, (System.nanoTime() - startedAt) / 1_000_000, process.pid());
        return new Launch(process, "127.0.0.1:" + brokerPort, logFile);
    }

    /** {@code host:port} of the client listener (PLAINTEXT, or SASL_SSL when started with {@link ScramOverTls}). */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The child JVM, for callers that need its pid or want to watch it. */
    public ProcessHandle processHandle() {
        return process.toHandle();
    }

    public Path logFile() {
        return logFile;
    }

    @Override
    public void close() {
        stopProcess();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // Called from another shutdown hook: nothing to remove.
        }
    }

    /**
     * Stops the broker (SIGTERM, its logs flushed) and keeps its data, ports and configuration, so that
     * {@link #startAgain} brings the same broker back: what clients see when a broker restarts.
     */
    public void stopKeepingData() {
        Process current = process;
        if (current.isAlive()) {
            current.destroy();
            try {
                if (!current.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    current.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                current.destroyForcibly();
            }
        }
    }

    /** Starts the broker stopped by {@link #stopKeepingData} again, on the same ports with the same data. */
    public void startAgain() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("the Kafka broker is running");
        }
        Path config = logFile.resolveSibling("server.properties");
        // The storage is formatted already, SCRAM credentials included.
        Process restarted = new ProcessBuilder(javaCommand(config, null))
                .redirectErrorStream(true)
                .directory(logFile.getParent().toFile())
                .start();
        LogPump pump = new LogPump(restarted.getInputStream(), logFile);
        pump.start();
        awaitReady(restarted, pump, logFile);
        process = restarted;
    }

    private void stopProcess() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: Kafka's own shutdown hook flushes and closes the logs.
            try {
                if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    LOG.warnf("Kafka broker did not stop within %s; killing it", STOP_TIMEOUT);
                    process.destroyForcibly().waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        if (temporaryDir != null && !process.isAlive()) {
            deleteRecursively(temporaryDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            LOG.warnf("could not delete %s: %s", dir, e.getMessage());
        }
    }

    private static void awaitReady(Process process, LogPump pump, Path logFile) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (!pump.ready.await(100, TimeUnit.MILLISECONDS)) {
                if (!process.isAlive()) {
                    pump.join(5_000);
                    throw new BrokerStartException(
                            "Kafka broker exited with status " + process.exitValue() + " before it was ready; log "
                                    + logFile + " ends with:\n" + pump.tail(),
                            pump.sawPortClash());
                }
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new BrokerStartException(
                            "Kafka broker not ready after " + START_TIMEOUT + "; log " + logFile + " ends with:\n"
                                    + pump.tail(),
                            false);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new BrokerStartException("interrupted while waiting for the Kafka broker", false);
        }
    }

    /** The child's command; {@code scramCredentials} (or null) are written with the storage when it is new. */
    private static List<String> javaCommand(Path config, Path scramCredentials) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small heap and the serial collector: a test broker carries little data and shares 2 cores with the tests.
        command.add("-Xms64m");
        command.add("-Xmx512m");
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.awt.headless=true");
        command.add("-Dorg.slf4j.simpleLogger.logFile=System.out");
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.add("-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info");
        command.add("-cp");
        command.add(brokerClasspath());
        command.add(MAIN_CLASS);
        command.add(config.toString());
        if (scramCredentials != null) {
            command.add(scramCredentials.toString());
        }
        return command;
    }

    /** The broker's jars as resolved by the build, plus the jar holding KafkaBrokerMain. */
    static String brokerClasspath() {
        try (InputStream in = KafkaBroker.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing " + CLASSPATH_RESOURCE + ": build the project with ./mvnw"
                        + " so that module local-stack/kafka-broker writes the broker classpath");
            }
            String jars = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            Path launcher = Path.of(Class.forName(MAIN_CLASS, false, KafkaBroker.class.getClassLoader())
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            return launcher + File.pathSeparator + jars;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException | URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + MAIN_CLASS + " (module local-stack/kafka-broker)", e);
        }
    }

    private static void writeConfig(
            Path config, Path dataDir, int brokerPort, int controllerPort, Map<String, String> overrides)
            throws IOException {
        Properties settings = settings(dataDir, brokerPort, controllerPort, overrides);
        try (OutputStream out = Files.newOutputStream(config)) {
            settings.store(out, "StreamTune local-stack single-node KRaft broker");
        }
    }

    /** The broker's settings: a single KRaft node on these ports, {@code overrides} last. */
    static Properties settings(Path dataDir, int brokerPort, int controllerPort, Map<String, String> overrides) {
        Properties settings = new Properties();
        settings.setProperty("process.roles", "broker,controller");
        settings.setProperty("node.id", "1");
        settings.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        settings.setProperty(
                "listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        settings.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        settings.setProperty("controller.listener.names", "CONTROLLER");
        settings.setProperty("inter.broker.listener.name", "PLAINTEXT");
        settings.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        settings.setProperty("log.dirs", dataDir.toString());
        // One node: every internal topic has one replica.
        settings.setProperty("offsets.topic.replication.factor", "1");
        settings.setProperty("transaction.state.log.replication.factor", "1");
        settings.setProperty("transaction.state.log.min.isr", "1");
        settings.setProperty("share.coordinator.state.topic.replication.factor", "1");
        settings.setProperty("share.coordinator.state.topic.min.isr", "1");
        // A consumer group forms at once instead of after 3 s.
        settings.setProperty("group.initial.rebalance.delay.ms", "0");
        // The 128 MB default dedupe buffer would be most of the heap.
        settings.setProperty("log.cleaner.dedupe.buffer.size", "2097152");
        // Topics are created explicitly with their partition counts (TopicProvisioner); a typo must fail loudly.
        settings.setProperty("auto.create.topics.enable", "false");
        settings.setProperty("num.partitions", "1");
        // The largest record the services send (their max.request.size), as the Compose and Kubernetes brokers.
        settings.setProperty("message.max.bytes", String.valueOf(KafkaSettings.MAX_RECORD_BYTES));
        overrides.forEach(settings::setProperty);
        return settings;
    }

    /**
     * The listener settings of a broker whose clients, and the broker itself, must come over SASL_SSL and log in with
     * SCRAM-SHA-512.
     */
    static Map<String, String> scramOverTlsSettings(
            ScramOverTls security, int brokerPort, int controllerPort, String brokerPassword) {
        Map<String, String> settings = new HashMap<>();
        settings.put("listeners", "SASL_SSL://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        settings.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + brokerPort);
        settings.put("inter.broker.listener.name", "SASL_SSL");
        settings.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT");
        settings.put("sasl.enabled.mechanisms", ScramOverTls.MECHANISM);
        settings.put("sasl.mechanism.inter.broker.protocol", ScramOverTls.MECHANISM);
        settings.put(
                "listener.name.sasl_ssl." + ScramOverTls.MECHANISM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
                ScramOverTls.jaasConfig(ScramOverTls.BROKER_USER, brokerPassword));
        settings.put("ssl.keystore.type", "PKCS12");
        settings.put(
                "ssl.keystore.location", security.keyStore().toAbsolutePath().toString());
        settings.put("ssl.keystore.password", security.storePassword());
        settings.put("ssl.truststore.type", "PKCS12");
        settings.put(
                "ssl.truststore.location",
                security.trustStore().toAbsolutePath().toString());
        settings.put("ssl.truststore.password", security.storePassword());
        return settings;
    }

    /**
     * Writes the SCRAM credentials for the storage format step, one {@code --add-scram} value a line: in KRaft they
     * live in the cluster metadata, and the broker's own must be there before its first start, since it logs in to
     * its listener as it starts. A file readable by its owner only, not the command line, which any local user sees.
     */
    private static Path writeScramCredentials(Path file, ScramOverTls security, String brokerPassword)
            throws IOException {
        Map<String, String> users = new TreeMap<>(security.users());
        users.put(ScramOverTls.BROKER_USER, brokerPassword);
        List<String> lines = new ArrayList<>();
        users.forEach((name, password) ->
                lines.add(ScramOverTls.MECHANISM + "=[name=" + name + ",password=" + password + "]"));
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return Files.write(file, lines, StandardCharsets.UTF_8);
    }

    /** Copies the child's output to its log file, keeps the last lines for error messages, spots readiness. */
    private static final class LogPump extends Thread {
        private final InputStream source;
        private final Path logFile;
        private final Deque<String> tail = new ArrayDeque<>();
        private final CountDownLatch ready = new CountDownLatch(1);
        private volatile boolean portClash;

        LogPump(InputStream source, Path logFile) {
            super("kafka-broker-log");
            setDaemon(true);
            this.source = source;
            this.logFile = logFile;
        }

        @Override
        public void run() {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(source, StandardCharsets.UTF_8));
                    PrintStream log = new PrintStream(
                            Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                            true,
                            StandardCharsets.UTF_8)) {
                String line;
                while ((line = reader.readLine()) != null) {
                    log.println(line);
                    remember(line);
                    if (line.contains(READY_LINE)) {
                        ready.countDown();
                    }
                    if (line.contains("Address already in use")) {
                        portClash = true;
                    }
                }
            } catch (IOException e) {
                remember("(log copy stopped: " + e.getMessage() + ")");
            }
        }

        private synchronized void remember(String line) {
            tail.addLast(line);
            if (tail.size() > LOG_TAIL_LINES) {
                tail.removeFirst();
            }
        }

        synchronized String tail() {
            return String.join("\n", tail);
        }

        boolean sawPortClash() {
            return portClash;
        }
    }

    /** The broker could not be started; the message carries the end of its log. */
    public static final class BrokerStartException extends IllegalStateException {
        private final transient boolean portClash;

        BrokerStartException(String message, boolean portClash) {
            super(message);
            this.portClash = portClash;
        }
    }
}
