package dev.streamtune.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The CPU time each process of the pipeline has used, sampled before and after a run: on a machine with few CPUs
 * the broker, the database and the services compete for them, and this says which took what, and how much of a
 * JVM's went to its JIT compiler threads and to its garbage collector's (read per thread from {@code /proc}, where
 * there is one). PostgreSQL counts with its backends (the children of its postmaster).
 */
final class CpuTime {

    /** What a process had used at a sample: all of it, its JIT compiler threads' and its garbage collector's. */
    record Used(Duration all, Duration compiler, Duration collector) {}

    private static final long TICKS_PER_SECOND = 100; // USER_HZ, as /proc reports thread times on Linux

    private final Map<String, ProcessHandle> processes;

    private CpuTime(Map<String, ProcessHandle> processes) {
        this.processes = new TreeMap<>(processes);
    }

    static CpuTime of(Map<String, ProcessHandle> processes) {
        return new CpuTime(processes);
    }

    /** The postmaster of the PostgreSQL listening on {@code port}. */
    static ProcessHandle postgres(int port) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().orElse("").endsWith("/postgres"))
                .filter(p -> p.info()
                        .arguments()
                        .map(a -> String.join(" ", a).contains("-p " + port))
                        .orElse(false))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no PostgreSQL on port " + port));
    }

    Map<String, Used> sample() {
        Map<String, Used> used = new LinkedHashMap<>();
        processes.forEach((name, process) -> used.put(
                name,
                new Used(
                        Stream.concat(
                                        Stream.of(process),
                                        name.equals("postgres") ? process.descendants() : Stream.empty())
                                .map(p -> p.info().totalCpuDuration().orElse(Duration.ZERO))
                                .reduce(Duration.ZERO, Duration::plus),
                        threads(process, "C[12] CompilerThre.*"),
                        threads(process, "(GC Thread|G1 |VM Thread).*"))));
        return used;
    }

    /**
     * The CPU time of the process's threads whose names (as the kernel keeps them, 15 characters) match; zero where
     * /proc is not there to say.
     */
    private static Duration threads(ProcessHandle process, String names) {
        Path tasks = Path.of("/proc", String.valueOf(process.pid()), "task");
        if (!Files.isDirectory(tasks)) {
            return Duration.ZERO;
        }
        long ticks = 0;
        try (Stream<Path> threads = Files.list(tasks)) {
            for (Path thread : (Iterable<Path>) threads::iterator) {
                try {
                    String stat = Files.readString(thread.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.matches(names)) {
                        String[] fields =
                                stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
                    }
                } catch (IOException | RuntimeException threadEnded) {
                    // a thread that ended took its time with it
                }
            }
        } catch (IOException e) {
            return Duration.ZERO;
        }
        return Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND);
    }

    /** The CPU seconds all JIT compiler threads together used between two samples. */
    static double compiling(Map<String, Used> before, Map<String, Used> after) {
        return after.entrySet().stream()
                .mapToDouble(process -> process.getValue()
                                .compiler()
                                .minus(before.get(process.getKey()).compiler())
                                .toMillis()
                        / 1e3)
                .sum();
    }

    /** What each process used between two samples (of which JIT and GC), and all of them together. */
    static String describe(Map<String, Used> before, Map<String, Used> after) {
        double total = 0;
        double compilers = 0;
        double collectors = 0;
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, Used> process : after.entrySet()) {
            Used then = before.get(process.getKey());
            double seconds = process.getValue().all().minus(then.all()).toMillis() / 1e3;
            double compiling =
                    process.getValue().compiler().minus(then.compiler()).toMillis() / 1e3;
            double collecting =
                    process.getValue().collector().minus(then.collector()).toMillis() / 1e3;
            total += seconds;
            compilers += compiling;
            collectors += collecting;
            text.append(
                    compiling + collecting > 0
                            ? String.format(
                                    Locale.ROOT,
                                    "%s %.1f (JIT %.1f, GC %.1f), ",
                                    process.getKey(),
                                    seconds,
                                    compiling,
                                    collecting)
                            : String.format(Locale.ROOT, "%s %.1f, ", process.getKey(), seconds));
        }
        return text.append(String.format(Locale.ROOT, "all %.1f (JIT %.1f, GC %.1f)", total, compilers, collectors))
                .toString();
    }
}
