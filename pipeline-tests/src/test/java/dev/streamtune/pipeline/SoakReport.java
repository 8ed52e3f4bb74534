package dev.streamtune.pipeline;

import dev.streamtune.pipeline.SoakSampler.Memory;
import dev.streamtune.pipeline.SoakSampler.Sample;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The soak's figures at the end: every sample as a table, then each service's memory at the first sample past the
 * warm-up against the last, with the relative change: what grows with the length of the stream shows there.
 */
final class SoakReport {

    private SoakReport() {}

    /**
     * The sample the comparison starts from: the first at or past {@code warmUp}, or, in a run shorter than twice
     * that, the first at or past half the run, so that the JVMs' compiling and the first burst of data are behind it.
     */
    static Sample baseline(List<Sample> samples, Duration warmUp) {
        double from =
                Math.min(warmUp.toSeconds(), samples.get(samples.size() - 1).seconds() / 2);
        return samples.stream().filter(s -> s.seconds() >= from).findFirst().orElseThrow();
    }

    static void print(List<Sample> samples, Duration warmUp) {
        System.out.println();
        System.out.println("samples (MiB: heap live after GC / RSS; lag in records, the trainer's batches to train):");
        StringBuilder header = new StringBuilder("| s |");
        StringBuilder rule = new StringBuilder("|---:|");
        for (String service : SoakSampler.SERVICES) {
            header.append(' ').append(service).append(" |");
            rule.append("---:|");
        }
        header.append(" lag ingest / format / tokenize / trainer | steps | checkpoints scored |");
        rule.append("---:|---:|---:|");
        System.out.println(header);
        System.out.println(rule);
        for (Sample sample : samples) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %.0f |", sample.seconds()));
            for (String service : SoakSampler.SERVICES) {
                Memory memory = sample.memory().get(service);
                row.append(String.format(
                        Locale.ROOT, " %.1f / %.0f |", SoakSampler.mib(memory.live()), SoakSampler.mib(memory.rss())));
            }
            row.append(String.format(
                    Locale.ROOT,
                    " %,d / %,d / %,d / %,d | %,d | %d |",
                    sample.lag().get("ingest"),
                    sample.lag().get("format"),
                    sample.lag().get("tokenize"),
                    sample.training().behind(),
                    sample.training().steps(),
                    sample.scoring().scored()));
            System.out.println(row);
        }

        Sample first = baseline(samples, warmUp);
        Sample last = samples.get(samples.size() - 1);
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "first (%.0f s: the first sample at or past %d s, or past half the run if it is shorter than twice"
                        + " that) vs last (%.0f s):%n",
                first.seconds(),
                warmUp.toSeconds(),
                last.seconds());
        for (String service : SoakSampler.SERVICES) {
            System.out.printf(
                    Locale.ROOT,
                    "  %-16s heap live after GC %s   old gen %s   RSS %s%n",
                    service,
                    change(first, last, service, Memory::live),
                    change(first, last, service, Memory::oldGen),
                    change(first, last, service, Memory::rss));
        }
    }

    private static String change(Sample first, Sample last, String service, ToLongFunction<Memory> figure) {
        long from = figure.applyAsLong(first.memory().get(service));
        long to = figure.applyAsLong(last.memory().get(service));
        String relative = from == 0 ? "n/a" : String.format(Locale.ROOT, "%+.1f%%", 100.0 * (to - from) / from);
        return String.format(
                Locale.ROOT, "%.1f -> %.1f MiB (%s)", SoakSampler.mib(from), SoakSampler.mib(to), relative);
    }
}
