package dev.streamtune.ingest.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;

/**
 * {@code ingest_records_total{door, dataset, outcome}}: with the four outcomes it gives, per door and dataset, the
 * same identity as the receipts (in = published + rejected + duplicate + unused). Also the bytes received.
 */
@ApplicationScoped
public class IngestMetrics {

    private final MeterRegistry registry;

    public IngestMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void recordOutcomes(Door door, String dataset, Tally chunk) {
        for (Map.Entry<Outcome, Map<String, Long>> outcome : chunk.counts().entrySet()) {
            long n = outcome.getValue().values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
            Counter.builder("ingest.records")
                    .description("Records read by ingestion, by outcome")
                    .tag("door", door.wireName())
                    .tag("dataset", dataset)
                    .tag("outcome", outcome.getKey().wireName())
                    .register(registry)
                    .increment(n);
        }
    }

    public void recordBytes(Door door, long bytes) {
        Counter.builder("ingest.bytes")
                .description("Bytes received by ingestion")
                .baseUnit("bytes")
                .tag("door", door.wireName())
                .register(registry)
                .increment(bytes);
    }
}
