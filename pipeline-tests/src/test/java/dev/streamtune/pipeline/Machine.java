package dev.streamtune.pipeline;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The machine a benchmark or test runs on: its figures, as docs/PERFORMANCE.md names them, and its programs. */
final class Machine {

    private Machine() {}

    static int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** CPUs, CPU model, memory, Java, and the load average (other work on the machine) at the time of the call. */
    static String describe() {
        String model = line(Path.of("/proc/cpuinfo"), "model name");
        String memory = line(Path.of("/proc/meminfo"), "MemTotal");
        long kib = memory == null ? 0 : Long.parseLong(memory.replaceAll("[^0-9]", ""));
        return String.format(
                Locale.ROOT,
                "%d CPU(s), %s, %.0f GiB, Java %s (%s); load average %s",
                cpus(),
                model == null ? "CPU model unknown" : model,
                kib / 1024.0 / 1024.0,
                System.getProperty("java.version"),
                System.getProperty("java.vm.name"),
                loadAverage());
    }

    /** The 1, 5 and 15 minute load averages. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The program at {@code explicit} when given, else {@code name} found on the PATH; null when neither runs. */
    static Path executable(String explicit, String name) {
        if (explicit != null && !explicit.isBlank()) {
            Path path = Path.of(explicit);
            return Files.isExecutable(path) ? path : null;
        }
        String path = System.getenv("PATH");
        for (String folder : path == null ? new String[0] : path.split(File.pathSeparator)) {
            Path candidate = Path.of(folder.isEmpty() ? "." : folder, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Runs a program to its end; its output (stdout and stderr), or an error with that output when it fails. */
    static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        if (status != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with status " + status + ":\n" + out);
        }
        return out;
    }

    private static String line(Path file, String key) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.stream()
                    .filter(l -> l.startsWith(key))
                    .findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
    }
}
