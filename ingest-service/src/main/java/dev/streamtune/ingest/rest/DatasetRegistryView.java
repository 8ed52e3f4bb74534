package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.registry.Dataset;
import dev.streamtune.ingest.registry.DatasetSource;
import dev.streamtune.ingest.registry.IngestionRecord;
import dev.streamtune.ingest.registry.SourceCount;
import dev.streamtune.ingest.registry.SourceFormat;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/** Reads the dataset registry into the shapes the API returns. */
@ApplicationScoped
public class DatasetRegistryView {

    /** A dataset's totals over all its sources; records = published + rejected + duplicates + unused. */
    public record Totals(long records, long published, long rejected, long duplicates, long unused) {
        static Totals of(List<SourceCount> counts) {
            long published = sum(counts, "published");
            long rejected = sum(counts, "rejected");
            long duplicates = sum(counts, "duplicate");
            long unused = sum(counts, "unused");
            return new Totals(published + rejected + duplicates + unused, published, rejected, duplicates, unused);
        }

        private static long sum(List<SourceCount> counts, String outcome) {
            return counts.stream()
                    .filter(c -> c.outcome.equals(outcome))
                    .mapToLong(c -> c.records)
                    .sum();
        }
    }

    public record DatasetSummary(String name, Instant createdAt, Instant lastIngestAt, Totals totals) {}

    /** @param splits per split (train, valid, test, none), then per outcome */
    public record SourceDetail(
            String source,
            String splitPolicy,
            Instant firstIngestAt,
            Instant lastIngestAt,
            Totals totals,
            Map<String, Map<String, Long>> splits,
            Map<String, Long> formats) {}

    public record IngestionSummary(
            UUID id,
            String source,
            String door,
            String status,
            Instant startedAt,
            Instant finishedAt,
            long records,
            long published,
            long rejected,
            long duplicates,
            long unused,
            String error) {}

    /** @param split the dataset's split and seed, fixed by its first ingestion (null before one settled it) */
    public record DatasetDetail(
            String name,
            Instant createdAt,
            Instant lastIngestAt,
            String split,
            Totals totals,
            List<SourceDetail> sources,
            List<IngestionSummary> recentIngestions) {}

    @Transactional
    public List<DatasetSummary> list() {
        return Dataset.<Dataset>listAll().stream()
                .sorted((a, b) -> a.name.compareTo(b.name))
                .map(d -> new DatasetSummary(
                        d.name,
                        d.createdAt,
                        d.lastIngestAt,
                        Totals.of(d.sources.stream()
                                .flatMap(s -> s.counts.stream())
                                .toList())))
                .toList();
    }

    @Transactional
    public Optional<DatasetDetail> detail(String name) {
        return Dataset.findByName(name).map(dataset -> {
            List<SourceDetail> sources =
                    dataset.sources.stream().map(DatasetRegistryView::source).toList();
            List<IngestionSummary> ingestions = IngestionRecord.recent(name, 20).stream()
                    .map(i -> new IngestionSummary(
                            i.id,
                            i.source,
                            i.door,
                            i.status,
                            i.startedAt,
                            i.finishedAt,
                            i.records,
                            i.published,
                            i.rejected,
                            i.duplicates,
                            i.unused,
                            i.error))
                    .toList();
            String split = dataset.splitPolicy == null ? null : dataset.splitPolicy + " seed " + dataset.splitSeed;
            return new DatasetDetail(
                    dataset.name,
                    dataset.createdAt,
                    dataset.lastIngestAt,
                    split,
                    Totals.of(dataset.sources.stream()
                            .flatMap(s -> s.counts.stream())
                            .toList()),
                    sources,
                    ingestions);
        });
    }

    private static SourceDetail source(DatasetSource source) {
        Map<String, Map<String, Long>> splits = new TreeMap<>();
        for (SourceCount count : source.counts) {
            splits.computeIfAbsent(count.split, s -> new TreeMap<>()).put(count.outcome, count.records);
        }
        Map<String, Long> formats = new TreeMap<>();
        for (SourceFormat format : source.formats) {
            formats.put(format.format, format.records);
        }
        return new SourceDetail(
                source.source,
                source.splitPolicy,
                source.firstIngestAt,
                source.lastIngestAt,
                Totals.of(source.counts),
                splits,
                formats);
    }
}
