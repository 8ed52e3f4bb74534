package dev.streamtune.ingest.pipeline;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.processor.EventPublisher;
import dev.streamtune.ingest.reader.ContainerFormat;
import dev.streamtune.ingest.reader.Containers;
import dev.streamtune.ingest.reader.ReaderLimits;
import dev.streamtune.ingest.reader.RecordReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.streamtune.ingest.registry.IngestLedger;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.sql.SQLException;

/** What an ingestion needs from the application, and the factory of ingestions. */
@ApplicationScoped
public class IngestionServices {

    private final IngestConfig config;
    private final EventPublisher publisher;
    private final IngestLedger ledger;
    private final IngestMetrics metrics;
    private final AgroalDataSource dataSource;
    private final MinHash minHash;

    public IngestionServices(IngestConfig config, EventPublisher publisher, IngestLedger ledger, IngestMetrics metrics,
                             AgroalDataSource dataSource) {
        this.config = config;
        this.publisher = publisher;
        this.ledger = ledger;
        this.metrics = metrics;
        this.dataSource = dataSource;
        this.minHash = new MinHash(config.nearDuplicates().bands());
    }

    /**
     * Starts an ingestion.
     *
     * @param recorded whether it gets a row in the ingestion table (uploads and imports; not each batch of the topic)
     */
    public Ingestion begin(String dataset, String source, Door door, IngestOptions options, boolean recorded) {
        return new Ingestion(this, dataset, source, door, options, recorded);
    }

    /** Reads a whole (plain) file into a new, recorded ingestion. */
    public IngestReceipt ingestFile(Path file, String name, ContainerFormat declared, String dataset, String source,
                                    Door door, IngestOptions options) {
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
        return new ReaderLimits((int) Math.min(Integer.MAX_VALUE - 8, config.maxRecordSize().asLongValue()), payloadLimit());
    }

    DatasetLock lockDataset(String dataset) throws SQLException {
        return new DatasetLock(dataSource, dataset);
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
        return (int) Math.min(Integer.MAX_VALUE - 8, config.deadLetterPayloadLimit().asLongValue());
    }

    long oasstTreeLimit() {
        return config.oasstMaxTreeSize().asLongValue();
    }

    public Path spoolDir() {
        return config.spoolDir().orElse(Path.of(System.getProperty("java.io.tmpdir")));
    }
}
