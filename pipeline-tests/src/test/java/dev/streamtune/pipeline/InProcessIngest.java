package dev.streamtune.pipeline;

import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.dedup.MinHash;
import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FieldMapping;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.format.RoleNames;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.pipeline.Candidate;
import dev.streamtune.ingest.pipeline.ChunkDeduplicator;
import dev.streamtune.ingest.pipeline.Door;
import dev.streamtune.ingest.pipeline.IngestOptions;
import dev.streamtune.ingest.pipeline.RecordUnderstanding;
import dev.streamtune.ingest.pipeline.SplitAssigner;
import dev.streamtune.ingest.reader.RawRecords;
import dev.streamtune.ingest.reader.ReaderLimits;
import dev.streamtune.ingest.registry.PublishedConversations;
import dev.streamtune.ingest.split.SplitPolicy;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * ingest-service's {@code conversations-raw} door as far as it is plain Java, for the pipeline benchmark's chain
 * without Kafka: each message read as the door reads it ({@link RawRecords}), understood ({@link RecordUnderstanding}:
 * format detection, normalisation, filters, content id), gathered per dataset into chunks of the service's size,
 * deduplicated by {@link ChunkDeduplicator} against the chunk and everything published before, and given its split
 * by the service's default ratios.
 *
 * <p>What the service does in PostgreSQL is left out: the conversations published so far are a map in memory
 * instead of the {@code seen_conversation} table, and no chunk is claimed, recorded or counted in the registry.
 */
public final class InProcessIngest {

    /** The service's defaults: ingest.chunk-size, ingest.max-record-size, ingest.dead-letter-payload-limit. */
    private static final int CHUNK_SIZE = 2000;

    private static final ReaderLimits LIMITS = new ReaderLimits(1024 * 1024, 16 * 1024);
    /** ingest.oasst-max-tree-size; the raw topic refuses flat OASST rows before any is held. */
    private static final long OASST_TREE_LIMIT = 64L * 1024 * 1024;
    /** ingest.stream.split and ingest.stream.seed. */
    private static final SplitPolicy.Ratios SPLIT = (SplitPolicy.Ratios) SplitPolicy.parse("90/10", 42);

    private final Consumer<Conversation> published;
    private final Map<String, Split> seen = new HashMap<>();
    private final Map<String, DatasetDoor> doors = new LinkedHashMap<>();
    private final ChunkDeduplicator deduplicator;
    private final SplitAssigner splits = SplitAssigner.byRatios(SPLIT);
    private long rejected;
    private long duplicates;
    private long unused;

    /** @param published told of each conversation as the service would publish it, in its split */
    public InProcessIngest(Consumer<Conversation> published) {
        this.published = published;
        this.deduplicator = new ChunkDeduplicator(new InMemory(), SPLIT, new MinHash(16), null);
    }

    /** One message of {@code conversations-raw} with its {@code dataset} header, the format detected. */
    public void accept(String dataset, byte[] value, SourceRef source) {
        doors.computeIfAbsent(dataset, DatasetDoor::new).accept(value, source);
    }

    /** Publishes what the chunks still hold. */
    public void finish() {
        doors.values().forEach(DatasetDoor::flush);
    }

    public long rejected() {
        return rejected;
    }

    public long duplicates() {
        return duplicates;
    }

    public long unused() {
        return unused;
    }

    /** The records of one dataset: understood one by one, published a chunk at a time. */
    private final class DatasetDoor implements RecordUnderstanding.Verdicts {
        private final RecordUnderstanding understanding;
        private final List<Candidate> chunk = new ArrayList<>(CHUNK_SIZE);

        DatasetDoor(String dataset) {
            IngestOptions options = new IngestOptions(
                    new FormatOptions(null, FieldMapping.NONE, RoleNames.DEFAULT, FormatOptions.OasstPaths.BEST),
                    null,
                    new NormalizationPolicy(true, NormalizationPolicy.SameRole.parse("reject")),
                    RecordFilter.NONE,
                    SPLIT,
                    false,
                    null);
            this.understanding = new RecordUnderstanding(
                    dataset, Door.TOPIC, options, LIMITS.payloadBytes(), OASST_TREE_LIMIT, this);
        }

        void accept(byte[] value, SourceRef source) {
            understanding.accept(RawRecords.fromMessage(value, source, LIMITS));
        }

        @Override
        public void read(RecordFormat format) {}

        @Override
        public void candidate(Candidate candidate) {
            chunk.add(candidate);
            if (chunk.size() >= CHUNK_SIZE) {
                flush();
            }
        }

        @Override
        public void rejected(DeadLetter letter) {
            rejected++;
        }

        @Override
        public void unused(String reason) {
            unused++;
        }

        void flush() {
            if (chunk.isEmpty()) {
                return;
            }
            ChunkDeduplicator.Deduplicated deduplicated;
            try {
                deduplicated = deduplicator.deduplicate(chunk);
            } catch (SQLException e) {
                throw new IllegalStateException(e); // the in-memory ledger throws nothing
            }
            duplicates += deduplicated.duplicates().size();
            for (ChunkDeduplicator.Survivor survivor : deduplicated.survivors()) {
                Conversation conversation = survivor.candidate()
                        .prototype()
                        .withSplit(splits.assign(survivor.candidate().id()));
                seen.put(conversation.id(), conversation.split());
                published.accept(conversation);
            }
            chunk.clear();
        }
    }

    /** The published set in memory, where the service asks PostgreSQL. */
    private final class InMemory implements PublishedConversations {
        @Override
        public Map<String, Split> published(Collection<String> ids) {
            Map<String, Split> found = new HashMap<>();
            for (String id : ids) {
                Split split = seen.get(id);
                if (split != null) {
                    found.put(id, split);
                }
            }
            return found;
        }

        @Override
        public List<StoredSignature> sharingBands(Collection<Long> bandKeys) {
            return List.of(); // near duplicates are off on the raw topic by default
        }
    }
}
