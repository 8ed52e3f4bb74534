package dev.streamtune.ingest.pipeline;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.reader.ContainerFormat;
import dev.streamtune.ingest.reader.Containers;
import dev.streamtune.ingest.reader.ReaderLimits;
import dev.streamtune.ingest.reader.RecordReader;
import dev.streamtune.ingest.registry.DatasetSplits;
import dev.streamtune.ingest.registry.IngestLedger;
import dev.streamtune.ingest.split.SplitPolicy;
import dev.streamtune.ingest.worker.EventPublisher;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;

/** What an ingestion needs from the application, and the factory of ingestions. */
@ApplicationScoped
public class IngestionServices {

    private final IngestConfig config;
    private final EventPublisher publisher;
    private final IngestLedger ledger;
    private final IngestMetrics metrics;
    private final DatasetSplits datasetSplits;
    private final DatasetLocks locks;
    private final MinHash minHash;

    public IngestionServices(
            IngestConfig config,
            EventPublisher publisher,
            IngestLedger ledger,
            IngestMetrics metrics,
            DatasetSplits datasetSplits,
            AgroalDataSource dataSource) {
        this.config = config;
        this.publisher = publisher;
        this.ledger = ledger;
        this.metrics = metrics;
        this.datasetSplits = datasetSplits;
        this.locks = new DatasetLocks(dataSource);
        this.minHash = new MinHash(config.nearDuplicates().bands());
    }

    /**
     * Starts an ingestion, in the dataset's own split (or, for a new dataset, the one in {@code options}).
     *
     * @param recorded whether it gets a row in the ingestion table (uploads and imports; not each batch of the topic)
     * @throws SplitConflictException when the options ask for a split other than the dataset's
     */
    public Ingestion begin(String dataset, String source, Door door, IngestOptions options, boolean recorded) {
        return new Ingestion(this, dataset, source, door, followingTheDataset(dataset, options), recorded);
    }

    private IngestOptions followingTheDataset(String dataset, IngestOptions options) {
        SplitPolicy own;
        try {
            own = datasetSplits.settle(dataset, options.split());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the split of dataset '" + dataset + "': " + e.getMessage(), e);
        }
        if (own.describe().equals(options.split().describe())) {
            return options;
        }
        if (options.splitAsked()) {
            throw new SplitConflictException(dataset, own, options.split());
        }
        return options.withSplit(own);
    }

    /** Reads a whole (plain) file into a new, recorded ingestion. */
    public IngestReceipt ingestFile(
            Path file,
            String name,
            ContainerFormat declared,
            String dataset,
            String source,
            Door door,
            IngestOptions options) {
        Ingestion ingestion = begin(dataset, source, door, options, true);
        try (RecordReader reader = Containers.open(file, declared, door.sourceKind(), name, readerLimits())) {
            while (reader.hasNext()) {
                ingestion.accept(reader.next());
            }
        } catch (IOException | UncheckedIOException e) {
            IngestReceipt partial = ingestion.finish();
            throw new IngestionFailedException("cannot read " + name + ": " + e.getMessage(), partial, e);
        }
        return ingestion.finish();
    }

    public ReaderLimits readerLimits() {
        return new ReaderLimits(
                (int) Math.min(Integer.MAX_VALUE - 8, config.maxRecordSize().asLongValue()), payloadLimit());
    }

    DatasetLock lockDataset(String dataset) throws SQLException {
        return locks.lock(dataset);
    }

    EventPublisher publisher() {
        return publisher;
    }

    IngestLedger ledger() {
        return ledger;
    }

    IngestMetrics metrics() {
        return metrics;
    }

    MinHash minHash() {
        return minHash;
    }

    int chunkSize() {
        return config.chunkSize();
    }

    int receiptRejections() {
        return config.receiptRejections();
    }

    int payloadLimit() {
        return (int)
                Math.min(Integer.MAX_VALUE - 8, config.deadLetterPayloadLimit().asLongValue());
    }

    long oasstTreeLimit() {
        return config.oasstMaxTreeSize().asLongValue();
    }

    public Path spoolDir() {
        return config.spoolDir().orElse(Path.of(System.getProperty("java.io.tmpdir")));
    }
}
