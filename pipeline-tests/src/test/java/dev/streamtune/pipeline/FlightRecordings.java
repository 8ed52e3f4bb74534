package dev.streamtune.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * JFR recordings of running JVMs (the services) over the measured part of a run only, started and stopped with
 * {@code jcmd}, so that start-up and warm-up do not fill the profile. The JVMs should run JFR from their start
 * ({@code -XX:StartFlightRecording=settings=default}): JFR started for the first time in a warm JVM has its JIT
 * compile much of the code again. Each recording lands in {@code <dir>/<name>.jfr}; read it with
 * {@code jfr print --events jdk.ExecutionSample} or {@code jfr summary}.
 */
final class FlightRecordings {

    private static final String NAME = "pipeline-throughput";

    private final Path dir;
    private final Map<String, ProcessHandle> processes;

    private FlightRecordings(Path dir, Map<String, ProcessHandle> processes) {
        this.dir = dir;
        this.processes = new TreeMap<>(processes);
    }

    /** Starts a recording (JFR's profile settings) in each process. */
    static FlightRecordings start(Path dir, Map<String, ProcessHandle> processes)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        FlightRecordings recordings = new FlightRecordings(dir.toAbsolutePath(), processes);
        for (ProcessHandle process : recordings.processes.values()) {
            jcmd(process, "JFR.start", "name=" + NAME, "settings=profile");
        }
        return recordings;
    }

    /** Stops the recordings, each written to its file. */
    void stop() throws IOException, InterruptedException {
        for (Map.Entry<String, ProcessHandle> process : processes.entrySet()) {
            jcmd(process.getValue(), "JFR.stop", "name=" + NAME, "filename=" + dir.resolve(process.getKey() + ".jfr"));
        }
        System.out.println(
                "JFR recordings of the measured run: " + dir + "/{" + String.join(",", processes.keySet()) + "}.jfr");
    }

    private static void jcmd(ProcessHandle process, String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), String.valueOf(process.pid())));
        line.addAll(List.of(command));
        Process jcmd = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(jcmd.getInputStream().readAllBytes());
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", line) + " failed: " + output);
        }
    }
}
