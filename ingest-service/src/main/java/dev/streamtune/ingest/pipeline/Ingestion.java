package dev.streamtune.ingest.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Message;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.format.OasstThreadBuilder;
import dev.streamtune.ingest.format.ParsedRecord;
import dev.streamtune.ingest.format.RecordException;
import dev.streamtune.ingest.format.RecordFormats;
import dev.streamtune.ingest.format.UnusableRecordException;
import dev.streamtune.ingest.normalize.ConversationId;
import dev.streamtune.ingest.normalize.ConversationNormalizer;
import dev.streamtune.ingest.reader.RawRecord;
import dev.streamtune.ingest.registry.IngestLedger;
import dev.streamtune.ingest.split.SplitPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * One ingestion: records in, conversations and dead letters out, every record accounted for.
 *
 * <p>Records are read ({@link #accept}), understood (format, normalisation, filters, content id) and gathered into
 * chunks. A chunk is deduplicated against itself and everything published before (by id, and by MinHash when asked),
 * given splits, published to Kafka with its dead letters, and only once Kafka has acknowledged it, recorded in the
 * ledger with its counts. A crash between the two republishes the chunk on retry under the same keys, which
 * consumers recognise; it never loses one.
 *
 * <p>With size-capped splits the caps are filled in the seeded shuffle order, which needs every candidate first:
 * candidates are spooled to disk and the chunks are formed in rank order at {@link #finish}.
 */
public final class Ingestion {

    private static final JsonNode NO_INPUT = JsonNodeFactory.instance.objectNode();

    private final IngestionServices services;
    private final UUID id = UUID.randomUUID();
    private final String dataset;
    private final String source;
    private final Door door;
    private final IngestOptions options;
    private final boolean recorded;
    private final MinHash minHash;
    private final Tally total;
    private final OasstThreadBuilder oasst = new OasstThreadBuilder();
    private final SplitSpool spool;
    private Tally chunkTally;
    private List<Candidate> chunk = new ArrayList<>();
    private List<DeadLetter> letters = new ArrayList<>();
    private SizeFiller filler;

    Ingestion(IngestionServices services, String dataset, String source, Door door, IngestOptions options,
              boolean recorded) {
        this.services = services;
        this.dataset = dataset;
        this.source = source;
        this.door = door;
        this.options = options;
        this.recorded = recorded;
        this.minHash = services.minHash();
        this.total = new Tally(services.receiptRejections());
        this.chunkTally = new Tally(services.receiptRejections());
        try {
            this.spool = options.split() instanceof SplitPolicy.Sizes s ? new SplitSpool(services.spoolDir(), s.seed()) : null;
            if (recorded) {
                services.ledger().started(id, dataset, source, door.wireName(), options.split().describe());
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
        if (!raw.isParsed()) {
            reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), raw.problem(), null);
        } else if (door != Door.TOPIC && RecordFormats.isOasstMessageRow(raw.value(), options.format())) {
            try {
                oasst.add(raw.value(), raw.source(), raw.payloadBytes());
            } catch (RecordException e) {
                reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), located(raw.source(), e), e.field());
            }
        } else {
            try {
                for (ParsedRecord record : RecordFormats.read(raw.value(), options.format())) {
                    consider(raw.source(), raw.value(), raw, record);
                }
            } catch (UnusableRecordException e) {
                chunkTally.unused(e.getMessage(), null);
            } catch (RecordException e) {
                reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), located(raw.source(), e), e.field());
            }
        }
        flushWhenFull();
    }

    private void consider(SourceRef from, JsonNode input, RawRecord raw, ParsedRecord record) {
        chunkTally.format(record.format().wireName());
        List<Message> messages;
        try {
            messages = ConversationNormalizer.normalize(record.messages(), options.normalization());
        } catch (RecordException e) {
            reject(from, raw == null ? new byte[0] : raw.payloadBytes(), raw == null ? 0 : raw.payloadSize(),
                    located(from, e), e.field());
            return;
        }
        Optional<String> excluded = options.filter().exclusion(input, record, messages);
        if (excluded.isPresent()) {
            chunkTally.unused(excluded.get(), null);
            return;
        }
        Conversation prototype = new Conversation(Conversation.SCHEMA_VERSION, ConversationId.of(messages), dataset,
                from, Split.TRAIN, messages, record.metadata().isEmpty() ? null : record.metadata(),
                record.format().wireName(), record.instruction(), Instant.now());
        Candidate candidate = new Candidate(prototype);
        if (spool != null) {
            try {
                spool.add(candidate);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot spool a candidate for size-capped splits", e);
            }
        } else {
            chunk.add(candidate);
        }
    }

    /** Completes the ingestion: rebuilt OASST threads, the last chunk, size-capped splits; returns the receipt. */
    public IngestReceipt finish() {
        String error = null;
        try {
            if (!oasst.isEmpty()) {
                for (OasstThreadBuilder.Thread thread : oasst.finish(options.format())) {
                    if (thread.problem() instanceof UnusableRecordException) {
                        chunkTally.unused(thread.problem().getMessage(), null);
                    } else if (thread.problem() != null) {
                        reject(thread.source(), thread.payload(), thread.payload().length,
                                located(thread.source(), thread.problem()), thread.problem().field());
                    } else {
                        for (ParsedRecord record : thread.conversations()) {
                            consider(thread.source(), NO_INPUT, null, record);
                            flushWhenFull();
                        }
                    }
                }
            }
            if (spool != null) {
                publishInRankOrder((SplitPolicy.Sizes) options.split());
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

    private void publishInRankOrder(SplitPolicy.Sizes sizes) {
        flush(); // rejections and unused records counted so far
        try (DatasetLock lock = services.lockDataset(dataset)) {
            filler = new SizeFiller(sizes, services.ledger().publishedPerSplit(dataset));
            Iterator<Candidate> ranked = spool.inRankOrder();
            while (ranked.hasNext()) {
                if (filler.full()) {
                    ranked.next();
                    chunkTally.unused(filler.describeCaps(), null);
                    continue;
                }
                chunk.add(ranked.next());
                flushWhenFull();
            }
            flush();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the dataset's split counts: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the split spool", e);
        }
    }

    private void flushWhenFull() {
        if (chunk.size() >= services.chunkSize() || letters.size() >= services.chunkSize()) {
            flush();
        }
    }

    /** Deduplicates, splits, publishes and records the current chunk. */
    private void flush() {
        if (chunk.isEmpty() && letters.isEmpty() && chunkTally.isEmpty()) {
            return;
        }
        try {
            List<Conversation> published = new ArrayList<>();
            List<IngestLedger.Seen> seen = new ArrayList<>();
            for (Survivor survivor : deduplicate(chunk)) {
                Split split = assignSplit(survivor.candidate().id());
                if (split == null) {
                    chunkTally.unused(filler.describeCaps(), null);
                    continue;
                }
                published.add(survivor.candidate().prototype().withSplit(split));
                MinHash.Signature signature = survivor.signature();
                seen.add(new IngestLedger.Seen(survivor.candidate().id(), dataset, split,
                        signature == null ? null : signature.values(), signature == null ? null : signature.bandKeys()));
                chunkTally.count(Outcome.PUBLISHED, split);
            }
            services.publisher().publish(published, letters, services.publishTimeout());
            services.ledger().commit(dataset, source, options.split().describe(), seen, countsOf(chunkTally));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record a published chunk: " + e.getMessage(), e);
        }
        services.metrics().recordOutcomes(door, dataset, chunkTally);
        total.addAll(chunkTally);
        chunkTally = new Tally(services.receiptRejections());
        chunk = new ArrayList<>();
        letters = new ArrayList<>();
    }

    private record Survivor(Candidate candidate, MinHash.Signature signature) {
    }

    private List<Survivor> deduplicate(List<Candidate> candidates) throws SQLException {
        Map<String, Split> published = services.ledger().published(candidates.stream().map(Candidate::id).toList());
        Set<String> inChunk = new HashSet<>();
        List<Candidate> unique = new ArrayList<>();
        for (Candidate candidate : candidates) {
            if (published.containsKey(candidate.id()) || !inChunk.add(candidate.id())) {
                // Counted under the original's split: stored for a published one, computed for one in this chunk.
                Split original = published.get(candidate.id());
                if (original == null && options.split() instanceof SplitPolicy.Ratios ratios) {
                    original = ratios.assign(candidate.id());
                }
                chunkTally.count(Outcome.DUPLICATE, original);
            } else {
                unique.add(candidate);
            }
        }
        if (options.nearDuplicateThreshold() == null) {
            return unique.stream().map(c -> new Survivor(c, null)).toList();
        }
        return withoutNearDuplicates(unique, options.nearDuplicateThreshold());
    }

    private List<Survivor> withoutNearDuplicates(List<Candidate> unique, double threshold) throws SQLException {
        Map<Candidate, MinHash.Signature> signatures = new LinkedHashMap<>();
        Set<Long> bands = new HashSet<>();
        for (Candidate candidate : unique) {
            MinHash.Signature signature = minHash.sign(candidate.prototype().messages());
            signatures.put(candidate, signature);
            for (long band : signature.bandKeys()) {
                bands.add(band);
            }
        }
        List<IngestLedger.StoredSignature> stored = services.ledger().sharingBands(bands);
        List<Survivor> survivors = new ArrayList<>();
        for (Map.Entry<Candidate, MinHash.Signature> entry : signatures.entrySet()) {
            MinHash.Signature signature = entry.getValue();
            Split original = null;
            boolean duplicate = false;
            for (IngestLedger.StoredSignature other : stored) {
                MinHash.Signature theirs = minHash.fromValues(other.signature());
                if (signature.sharesBand(theirs) && signature.similarity(theirs) >= threshold) {
                    duplicate = true;
                    original = other.split();
                    break;
                }
            }
            for (int i = 0; !duplicate && i < survivors.size(); i++) {
                MinHash.Signature earlier = survivors.get(i).signature();
                duplicate = signature.sharesBand(earlier) && signature.similarity(earlier) >= threshold;
            }
            if (duplicate) {
                chunkTally.count(Outcome.DUPLICATE, original);
            } else {
                survivors.add(new Survivor(entry.getKey(), signature));
            }
        }
        return survivors;
    }

    private Split assignSplit(String conversationId) {
        if (options.split() instanceof SplitPolicy.Ratios ratios) {
            return ratios.assign(conversationId);
        }
        return filler.take();
    }

    private void reject(SourceRef from, byte[] payload, long payloadSize, String reason, String field) {
        letters.add(DeadLetter.from("ingest", from).dataset(dataset).field(field).reason(reason)
                .payloadHead(payload, payloadSize).payloadLimit(services.payloadLimit()).build());
        chunkTally.rejected(new IngestReceipt.Rejection(from.describe(), field, reason));
    }

    /** Prefixes a record problem with where the record is: "line 5: ...", "row 3: ...", "offset 17: ...". */
    private static String located(SourceRef from, RecordException e) {
        String where;
        if (from.kind() == SourceRef.Kind.TOPIC) {
            where = "partition " + from.partition() + " offset " + from.offset();
        } else if (from.line() != null) {
            where = "line " + from.line();
        } else {
            where = "record " + from.record();
        }
        return where + ": " + e.getMessage();
    }

    private static IngestLedger.Counts countsOf(Tally tally) {
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        tally.counts().forEach((outcome, bySplit) -> counts.put(outcome.wireName(), bySplit));
        return new IngestLedger.Counts(counts, tally.formats());
    }

    private IngestReceipt receipt() {
        return new IngestReceipt(recorded ? id : null, dataset, source, door.wireName(), options.split().describe(),
                total.records(), total.total(Outcome.PUBLISHED), total.total(Outcome.REJECTED),
                total.total(Outcome.DUPLICATE), total.total(Outcome.UNUSED), total.bySplit(), total.formats(),
                total.unusedReasons(), List.copyOf(total.rejections()));
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
            services.ledger().finished(id, total.records(), total.total(Outcome.PUBLISHED), total.total(Outcome.REJECTED),
                    total.total(Outcome.DUPLICATE), total.total(Outcome.UNUSED), error);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close the ingestion record: " + e.getMessage(), e);
        }
    }

    /** Fills size-capped splits in rank order: train first, then valid, then test, counting what was there before. */
    private static final class SizeFiller {
        private final SplitPolicy.Sizes sizes;
        private final Map<Split, Long> remaining = new EnumMap<>(Split.class);

        SizeFiller(SplitPolicy.Sizes sizes, Map<Split, Long> alreadyPublished) {
            this.sizes = sizes;
            for (Split split : Split.values()) {
                remaining.put(split, Math.max(0, sizes.capacity(split) - alreadyPublished.getOrDefault(split, 0L)));
            }
        }

        Split take() {
            for (Split split : Split.values()) {
                if (remaining.get(split) > 0) {
                    remaining.merge(split, -1L, Long::sum);
                    return split;
                }
            }
            return null;
        }

        boolean full() {
            return remaining.values().stream().allMatch(n -> n == 0);
        }

        String describeCaps() {
            return "beyond the split sizes train " + sizes.train() + " / valid " + sizes.valid() + " / test " + sizes.test();
        }
    }
}
