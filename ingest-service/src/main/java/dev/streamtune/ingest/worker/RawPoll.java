package dev.streamtune.ingest.worker;

import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Topics;
import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FieldMapping;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.format.RoleNames;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.pipeline.DatasetName;
import dev.streamtune.ingest.pipeline.Door;
import dev.streamtune.ingest.pipeline.IngestOptions;
import dev.streamtune.ingest.pipeline.Ingestion;
import dev.streamtune.ingest.pipeline.IngestionServices;
import dev.streamtune.ingest.reader.RawRecord;
import dev.streamtune.ingest.reader.RawRecords;
import dev.streamtune.ingest.reader.ReaderLimits;
import dev.streamtune.ingest.split.SplitPolicy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;

/**
 * The records of one poll of {@code conversations-raw}, each normalised like a line of an uploaded file, in one
 * ingestion per dataset and format. The dataset comes from the {@code dataset} header (else
 * {@code ingest.stream.dataset}); a {@code format} header forces the format. A record whose {@code format} header
 * names no known format is dead-lettered with the header, its value and the known formats: detecting the format
 * instead would publish what the producer asked to be read otherwise. A record whose {@code dataset} header is not
 * a dataset name (the REST door's rule, {@link DatasetName}) is dead-lettered in the stream's dataset, naming the
 * header, partition and offset.
 *
 * <p>Bad records become dead letters here, with their reasons: an exception from {@link #take} or {@link #finish}
 * means the platform (Kafka, the database, the spool's disk) is failing, and the worker reads the poll again.
 */
final class RawPoll implements RawDoorWorker.Poll {

    private static final Logger LOG = Logger.getLogger(RawPoll.class);

    private final IngestionServices ingestions;
    private final IngestConfig config;
    private final ReaderLimits limits;
    private final Map<String, Ingestion> byDatasetAndFormat = new LinkedHashMap<>();
    private int records;

    RawPoll(IngestionServices ingestions, IngestConfig config) {
        this.ingestions = ingestions;
        this.config = config;
        this.limits = ingestions.readerLimits();
    }

    /** The stream's own dataset, refused at start when it cannot be one: every bad header's record goes there. */
    static void checkStreamDataset(IngestConfig config) {
        String problem = DatasetName.problem(config.stream().dataset());
        if (problem != null) {
            throw new IllegalStateException("ingest.stream.dataset " + problem);
        }
    }

    @Override
    public void take(ConsumerRecord<String, byte[]> record) {
        records++;
        String named = header(record, Topics.Headers.DATASET, config.stream().dataset());
        String badName = DatasetName.problem(named);
        // A name the registry cannot hold is the producer's mistake, not the platform's: refused like a bad
        // record, into the stream's own dataset, rather than failing the poll for every dataset behind it.
        String dataset = badName == null ? named : config.stream().dataset();
        ReadAs format = badName == null
                ? ReadAs.of(header(record, Topics.Headers.FORMAT, "auto"))
                : ReadAs.refused("header '" + Topics.Headers.DATASET + "': " + badName);
        Ingestion ingestion = byDatasetAndFormat.computeIfAbsent(
                dataset + "\n" + format.key(),
                key -> ingestions.begin(
                        dataset, Topics.CONVERSATIONS_RAW, Door.TOPIC, options(format.forced()), false));
        SourceRef source = SourceRef.inTopic(record.topic(), record.partition(), record.offset());
        RawRecord raw = RawRecords.fromMessage(record.value(), source, limits);
        if (format.refusal() == null) {
            ingestion.accept(raw);
        } else {
            ingestion.refuse(raw, format.refusal());
        }
    }

    @Override
    public void finish() {
        LOG.debugf("conversations-raw: %d records in %d ingestions", records, byDatasetAndFormat.size());
        List<Ingestion> open = new ArrayList<>(byDatasetAndFormat.values());
        byDatasetAndFormat.clear();
        for (int i = 0; i < open.size(); i++) {
            try {
                open.get(i).finish();
            } catch (RuntimeException e) {
                open.subList(i + 1, open.size()).forEach(Ingestion::abandon);
                throw e;
            }
        }
    }

    @Override
    public void abandon() {
        byDatasetAndFormat.values().forEach(Ingestion::abandon);
        byDatasetAndFormat.clear();
    }

    /** The options of the records of one dataset read in one format, or detected when {@code forced} is null. */
    private IngestOptions options(RecordFormat forced) {
        IngestConfig.Stream stream = config.stream();
        return new IngestOptions(
                new FormatOptions(forced, FieldMapping.NONE, RoleNames.DEFAULT, FormatOptions.OasstPaths.BEST),
                null,
                new NormalizationPolicy(
                        config.defaults().requireAssistantLast(),
                        NormalizationPolicy.SameRole.parse(config.defaults().sameRole())),
                RecordFilter.NONE,
                SplitPolicy.parse(stream.split(), stream.seed()),
                false,
                stream.nearDuplicates() ? config.nearDuplicates().threshold() : null);
    }

    /**
     * What a message's headers ask for: a format to force (null: detect it), or why the record is refused (an
     * unknown format, a dataset name that cannot be one).
     */
    private record ReadAs(RecordFormat forced, String refusal) {

        static ReadAs of(String value) {
            try {
                return new ReadAs(RecordFormat.parse(value), null);
            } catch (IllegalArgumentException unknown) {
                return new ReadAs(
                        null,
                        "header '" + Topics.Headers.FORMAT + "' is '" + value + "', not a known format; expected "
                                + RecordFormat.known());
            }
        }

        static ReadAs refused(String why) {
            return new ReadAs(null, why);
        }

        String key() {
            return forced == null ? "auto" : forced.wireName();
        }
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name, String fallback) {
        Header header = record.headers().lastHeader(name);
        if (header == null || header.value() == null || header.value().length == 0) {
            return fallback;
        }
        return new String(header.value(), StandardCharsets.UTF_8);
    }
}
