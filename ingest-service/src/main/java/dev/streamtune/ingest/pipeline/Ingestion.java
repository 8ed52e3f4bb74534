package dev.streamtune.ingest.pipeline;

import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.reader.RawRecord;
import dev.streamtune.ingest.split.SplitPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * One ingestion: records in, conversations and dead letters out, every record accounted for.
 *
 * <p>Records are understood ({@link RecordUnderstanding}: format, normalisation, filters, content id) and gathered
 * into {@link Chunk}s. A chunk is deduplicated against itself and everything published before
 * ({@link ChunkDeduplicator}), given splits ({@link SplitAssigner}), and published to Kafka with its dead letters,
 * then recorded in the ledger with its counts ({@link ChunkPublisher}). Concurrent ingestions of the same
 * conversation are settled by the ledger's claims: exactly one publishes it, the others count it as a duplicate.
 *
 * <p>With size-capped splits an ingestion's conversations are placed in the seeded shuffle order, which needs every
 * candidate first: candidates are spooled to disk and the chunks are formed in rank order at {@link #finish}, each
 * placed while the dataset is held ({@link DatasetLock}).
 */
public final class Ingestion {

    private static final Logger LOG = Logger.getLogger(Ingestion.class);

    private final IngestionServices services;
    private final UUID id = UUID.randomUUID();
    private final String dataset;
    private final String source;
    private final Door door;
    private final IngestOptions options;
    private final boolean recorded;
    private final RecordUnderstanding understanding;
    private final ChunkDeduplicator deduplicator;
    private final ChunkPublisher publisher;
    private final Tally total;
    private final SplitSpool spool;
    private SplitAssigner splits;
    private Chunk chunk;

    Ingestion(
            IngestionServices services,
            String dataset,
            String source,
            Door door,
            IngestOptions options,
            boolean recorded) {
        this.services = services;
        this.dataset = dataset;
        this.source = source;
        this.door = door;
        this.options = options;
        this.recorded = recorded;
        this.understanding = new RecordUnderstanding(
                dataset, door, options, services.payloadLimit(), services.oasstTreeLimit(), new Gathering());
        this.deduplicator = new ChunkDeduplicator(
                services.ledger(), options.split(), services.minHash(), options.nearDuplicateThreshold());
        this.publisher = new ChunkPublisher(
                services.ledger(),
                (conversations, letters) -> services.publisher().publish(conversations, letters),
                dataset,
                source,
                options.split().describe());
        this.total = new Tally(services.receiptRejections());
        this.chunk = new Chunk(services.receiptRejections());
        // Size caps are filled chunk by chunk under the dataset's lock, with the counts the dataset has by then.
        this.splits = options.split() instanceof SplitPolicy.Ratios ratios ? SplitAssigner.byRatios(ratios) : null;
        try {
            this.spool = options.split() instanceof SplitPolicy.Sizes s
                    ? new SplitSpool(services.spoolDir(), s.seed())
                    : null;
            if (recorded) {
                services.ledger()
                        .started(
                                id,
                                dataset,
                                source,
                                door.wireName(),
                                options.split().describe());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record the ingestion: " + e.getMessage(), e);
        }
    }

    public UUID id() {
        return id;
    }

    /** Takes one record. Bad records are dead-lettered with their reason; nothing here throws for bad input. */
    public void accept(RawRecord raw) {
        understanding.accept(raw);
        flushWhenFull();
    }

    /**
     * Dead-letters a record for a problem found outside its content, such as a header naming no known format; the
     * reason is prefixed with where the record is.
     */
    public void refuse(RawRecord raw, String problem) {
        understanding.refuse(raw, problem);
        flushWhenFull();
    }

    /** Completes the ingestion: the last OASST tree, the last chunk, size-capped splits; returns the receipt. */
    public IngestReceipt finish() {
        String error = null;
        try {
            understanding.finish();
            if (spool != null) {
                publishInRankOrder();
            }
            flush();
            return receipt();
        } catch (RuntimeException e) {
            error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new IngestionFailedException(error, receipt(), e);
        } finally {
            closeSpool();
            if (recorded) {
                recordFinish(error);
            }
        }
    }

    /**
     * Gives up an ingestion that will not be finished, its records to be read again (the raw door starting over after
     * a failure of the platform): its spool is deleted. What its chunks published so far stays published, and is a
     * duplicate when read again. Meant for unrecorded ingestions: a recorded one would stay open in the ledger.
     */
    public void abandon() {
        try {
            closeSpool();
        } catch (UncheckedIOException e) {
            // the spool is a temporary file: failing to delete it must not hide the failure being handled
            LOG.warnf("ingestion %s of dataset %s: cannot delete its split spool: %s", id, dataset, e.getMessage());
        }
    }

    /** Where the verdicts on records go: candidates to the chunk (or the spool), the rest counted in the chunk. */
    private final class Gathering implements RecordUnderstanding.Verdicts {

        @Override
        public void read(RecordFormat format) {
            chunk.tally().format(format.wireName());
        }

        @Override
        public void candidate(Candidate candidate) {
            if (spool == null) {
                chunk.add(candidate);
                flushWhenFull();
                return;
            }
            try {
                spool.add(candidate);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot spool a candidate for size-capped splits", e);
            }
        }

        @Override
        public void rejected(DeadLetter letter) {
            chunk.reject(letter);
        }

        @Override
        public void unused(String reason) {
            chunk.tally().unused(reason, null);
        }
    }

    /**
     * Size caps: the spooled candidates in the seeded shuffle order, chunk by chunk. Each chunk is deduplicated
     * first, so that a conversation already published counts as a duplicate even when the caps are full.
     */
    private void publishInRankOrder() {
        flush(); // rejections and unused records counted so far
        try {
            Iterator<Candidate> ranked = spool.inRankOrder();
            while (ranked.hasNext()) {
                chunk.add(ranked.next());
                flushWhenFull();
            }
            flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the split spool", e);
        }
    }

    private void flushWhenFull() {
        if (chunk.full(services.chunkSize())) {
            flush();
        }
    }

    /**
     * Deduplicates, splits, publishes and records the current chunk. Under size caps the dataset is held from
     * reading its counts to recording the chunk, so the places a chunk takes are seen by the next one, whichever
     * ingestion (door, replica) that is.
     */
    private void flush() {
        if (chunk.isEmpty()) {
            return;
        }
        Tally tally = chunk.tally();
        try {
            if (options.split() instanceof SplitPolicy.Sizes sizes
                    && !chunk.candidates().isEmpty()) {
                try (DatasetLock held = services.lockDataset(dataset)) {
                    splits = SplitAssigner.fillingSizes(sizes, services.ledger().publishedPerSplit(dataset));
                    place(tally);
                }
            } else {
                place(tally);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record a published chunk: " + e.getMessage(), e);
        }
        services.metrics().recordOutcomes(door, dataset, tally);
        total.addAll(tally);
        chunk = new Chunk(services.receiptRejections());
    }

    private void place(Tally tally) throws SQLException {
        ChunkDeduplicator.Deduplicated deduplicated = deduplicator.deduplicate(chunk.candidates());
        for (ChunkDeduplicator.Duplicate duplicate : deduplicated.duplicates()) {
            tally.count(Outcome.DUPLICATE, duplicate.original());
        }
        List<ChunkPublisher.Placed> placed = new ArrayList<>();
        for (ChunkDeduplicator.Survivor survivor : deduplicated.survivors()) {
            Split split = splits.assign(survivor.candidate().id());
            if (split == null) {
                tally.unused(splits.noRoom(), null);
            } else {
                placed.add(new ChunkPublisher.Placed(survivor.candidate(), split, survivor.signature()));
            }
        }
        for (ChunkPublisher.Placed lost : publisher.publish(placed, chunk.letters(), tally)) {
            splits.giveBack(lost.split());
        }
    }

    private IngestReceipt receipt() {
        return new IngestReceipt(
                recorded ? id : null,
                dataset,
                source,
                door.wireName(),
                options.split().describe(),
                total.records(),
                total.total(Outcome.PUBLISHED),
                total.total(Outcome.REJECTED),
                total.total(Outcome.DUPLICATE),
                total.total(Outcome.UNUSED),
                total.bySplit(),
                total.formats(),
                total.unusedReasons(),
                List.copyOf(total.rejections()));
    }

    private void closeSpool() {
        if (spool != null) {
            try {
                spool.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void recordFinish(String error) {
        try {
            services.ledger()
                    .finished(
                            id,
                            total.records(),
                            total.total(Outcome.PUBLISHED),
                            total.total(Outcome.REJECTED),
                            total.total(Outcome.DUPLICATE),
                            total.total(Outcome.UNUSED),
                            error);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close the ingestion record: " + e.getMessage(), e);
        }
    }
}
