package dev.streamtune.localstack.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A built Quarkus service ({@code <module>/target/quarkus-app/quarkus-run.jar}) started as a child JVM the way it
 * runs in production, configured through environment variables, and awaited on its readiness endpoint. It can be
 * killed without warning (SIGKILL, as the kernel's OOM killer or a lost node would) and started again on the same
 * port with the same settings.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);

    private final String name;
    private final Path jar;
    private final Map<String, String> environment;
    private final int port;
    private final Path log;
    private volatile Process process;
    private volatile long logStart;

    private ServiceProcess(String name, Path jar, Map<String, String> environment, int port, Path log) {
        this.name = name;
        this.jar = jar;
        this.environment = Map.copyOf(environment);
        this.port = port;
        this.log = log;
    }

    public static ServiceProcess start(
            Path projectRoot, String module, int port, Map<String, String> environment, Path logDir)
            throws IOException, InterruptedException {
        ServiceProcess service = startUnready(projectRoot, module, port, environment, logDir);
        service.awaitReady(READY_TIMEOUT);
        return service;
    }

    /**
     * Starts a service without waiting for it to be ready: for a test of what its readiness says when it cannot be
     * (a broker refusing its login). The caller closes it.
     */
    public static ServiceProcess startUnready(
            Path projectRoot, String module, int port, Map<String, String> environment, Path logDir)
            throws IOException {
        Path jar = projectRoot.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build first with ./mvnw -DskipTests package");
        }
        Files.createDirectories(logDir);
        ServiceProcess service = new ServiceProcess(module, jar, environment, port, logDir.resolve(module + ".log"));
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        service.launch();
        return service;
    }

    private void launch() throws IOException {
        logStart = Files.exists(log) ? Files.size(log) : 0; // the log is appended to: this launch's lines start here
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // A service's Kafka settings are the ones it is given, never KAFKA_* variables left in the environment of
        // whoever started this JVM: a secured cluster's login would be refused by the plaintext broker started here.
        builder.environment().keySet().removeIf(variable -> variable.startsWith("KAFKA_"));
        builder.environment().putAll(environment);
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        process = builder.start();
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or committed; waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Starts the service again, as it was configured, and waits until it is ready. */
    public void restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        launch();
        awaitReady(READY_TIMEOUT);
    }

    public String name() {
        return name;
    }

    /** Null while the process runs, else how it ended. */
    public Integer exitStatus() {
        Process current = process;
        return current.isAlive() ? null : current.exitValue();
    }

    /** The last line this launch logged that reports an error (ERROR or an exception), or null. */
    public String lastError() {
        try {
            byte[] all = Files.readAllBytes(log);
            int from = (int) Math.min(logStart, all.length);
            List<String> lines = new String(all, from, all.length - from, StandardCharsets.UTF_8)
                    .lines()
                    .toList();
            for (int i = lines.size() - 1; i >= 0; i--) {
                String line = lines.get(i);
                if (line.contains(" ERROR ") || line.matches("^[\\w.$]+(Exception|Error)\\b.*")) {
                    return line.length() > 300 ? line.substring(0, 300) + "..." : line;
                }
            }
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
        return null;
    }

    public Path log() {
        return log;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** Waits until the service answers ready, as {@link #start} does; fails if it exits or takes too long. */
    public void awaitReady() throws InterruptedException, IOException {
        awaitReady(READY_TIMEOUT);
    }

    private void awaitReady(Duration timeout) throws InterruptedException, IOException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with status " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> ready = http.send(
                        HttpRequest.newBuilder(uri("/q/health/ready"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // The HTTP port opens only once the service has started.
            }
            process.waitFor(250, TimeUnit.MILLISECONDS);
        }
        throw new IllegalStateException(name + " not ready after " + timeout + "; see " + log);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
