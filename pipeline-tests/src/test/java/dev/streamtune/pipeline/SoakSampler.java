package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streamtune.events.Topics;
import dev.streamtune.localstack.run.LocalServices;
import dev.streamtune.localstack.run.ServiceProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the soak reads of the five services at one moment: each service's memory, each stage's lag, the trainer's
 * steps and eval-service's scored checkpoints.
 *
 * <p>Heap is Micrometer's {@code jvm_gc_live_data_size_bytes}: the old generation's occupancy right after the last
 * collection that reduced it (a G1 mixed or full collection), so it rises only with what stays reachable; it is 0
 * until such a collection has happened. Beside it the old generation's occupancy now
 * ({@code jvm_memory_used_bytes} of the old-gen pool), which also rises with what was promoted and not yet collected.
 * RSS is {@code VmRSS} of the service's process ({@code /proc/<pid>/status}): the heap, and what lives outside it
 * (the trainer's and evaluator's native tensors, thread stacks, the JIT's code).
 */
final class SoakSampler {

    static final List<String> SERVICES = List.of(
            LocalServices.INGEST,
            LocalServices.FORMAT,
            LocalServices.TOKENIZE,
            LocalServices.TRAINER,
            LocalServices.EVAL);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double MIB = 1024 * 1024;

    /** A service's memory: live heap after GC, old generation now, resident set, in bytes. */
    record Memory(long live, long oldGen, long rss) {}

    /**
     * The trainer's run: optimiser steps taken and the batches on the topic (the soak's recipe is the only one). The
     * recipe trains a batch a step (no gradient accumulation), so what is left to train is their difference; the
     * run's own {@code lag} was seen to read 0 with most batches untrained (docs/PERFORMANCE.md, Soak).
     */
    record Training(long steps, long batches) {
        long behind() {
            return batches - steps;
        }
    }

    /** eval-service's checkpoints of the recipe (the base, step 0, left out), by status. */
    record Scoring(Map<String, Long> checkpoints) {
        long with(String status) {
            return checkpoints.getOrDefault(status, 0L);
        }

        long scored() {
            return with("SCORED");
        }

        /** Announced and not yet scored or failed. */
        long waiting() {
            return with("PENDING") + with("SKIPPED");
        }
    }

    record Sample(
            double seconds, Map<String, Memory> memory, Map<String, Long> lag, Training training, Scoring scoring) {}

    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();
    private final StageLag lag;
    private final String runId;
    private final String recipeId;

    SoakSampler(LocalServices services, StageLag lag, String runId, String recipeId) {
        services.running().forEach(service -> this.services.put(service.name(), service));
        this.lag = lag;
        this.runId = runId;
        this.recipeId = recipeId;
    }

    Sample sample(double seconds) throws Exception {
        Map<String, Memory> memory = new LinkedHashMap<>();
        for (String service : SERVICES) {
            memory.put(service, memory(service));
        }
        JsonNode run = getJson(services.get(LocalServices.TRAINER).uri("/runs/" + runId));
        long batches = lag.endOffsets(Topics.BATCHES).values().stream()
                .mapToLong(Long::longValue)
                .sum();
        Training training = new Training(run.path("step").asLong(), batches);
        Map<String, Long> checkpoints = new LinkedHashMap<>();
        for (JsonNode checkpoint :
                getJson(services.get(LocalServices.EVAL).uri("/recipes/" + recipeId + "/checkpoints"))) {
            if (checkpoint.path("step").asLong() > 0) {
                checkpoints.merge(checkpoint.path("status").asText(), 1L, Long::sum);
            }
        }
        return new Sample(seconds, memory, lag.sample(), training, new Scoring(checkpoints));
    }

    private Memory memory(String service) throws IOException, InterruptedException {
        PrometheusText metrics = metrics(service);
        long live = Math.round(metrics.sum("jvm_gc_live_data_size_bytes", labels -> true));
        long oldGen = Math.round(metrics.sum(
                "jvm_memory_used_bytes",
                labels -> "heap".equals(labels.get("area"))
                        && (labels.getOrDefault("id", "").contains("Old Gen")
                                || labels.getOrDefault("id", "").contains("Tenured"))));
        return new Memory(live, oldGen, rss(PipelineThroughput.child(service)));
    }

    PrometheusText metrics(String service) throws IOException, InterruptedException {
        return PrometheusText.read(http, services.get(service).uri("/q/metrics"));
    }

    JsonNode getJson(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** VmRSS of the process, in bytes (the kernel writes it in kB). */
    private static long rss(ProcessHandle process) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + process.pid() + "/status");
    }

    /** The sample as one line per service. */
    static void print(Sample sample) {
        for (String service : SERVICES) {
            Memory memory = sample.memory().get(service);
            System.out.printf(
                    Locale.ROOT,
                    "%7.0f s  %-16s heap live after GC %7.1f MiB  old gen %7.1f MiB  RSS %7.1f MiB  %s%n",
                    sample.seconds(),
                    service,
                    memory.live() / MIB,
                    memory.oldGen() / MIB,
                    memory.rss() / MIB,
                    stage(sample, service));
        }
    }

    private static String stage(Sample sample, String service) {
        return switch (service) {
            case LocalServices.INGEST ->
                String.format(Locale.ROOT, "lag %,d", sample.lag().get("ingest"));
            case LocalServices.FORMAT ->
                String.format(Locale.ROOT, "lag %,d", sample.lag().get("format"));
            case LocalServices.TOKENIZE ->
                String.format(Locale.ROOT, "lag %,d", sample.lag().get("tokenize"));
            case LocalServices.TRAINER ->
                String.format(
                        Locale.ROOT,
                        "steps %,d, %,d of %,d batches to train",
                        sample.training().steps(),
                        sample.training().behind(),
                        sample.training().batches());
            default ->
                String.format(
                        Locale.ROOT,
                        "checkpoints scored %d, waiting %d, failed %d",
                        sample.scoring().scored(),
                        sample.scoring().waiting(),
                        sample.scoring().with("FAILED"));
        };
    }

    static double mib(long bytes) {
        return bytes / MIB;
    }
}
