package dev.streamtune.ingest.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.streamtune.events.Conversation;
import dev.streamtune.events.DeadLetter;
import dev.streamtune.events.Message;
import dev.streamtune.events.SourceRef;
import dev.streamtune.events.Split;
import dev.streamtune.ingest.format.OasstThreadBuilder;
import dev.streamtune.ingest.format.ParsedRecord;
import dev.streamtune.ingest.format.RecordException;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.format.RecordFormats;
import dev.streamtune.ingest.format.UnusableRecordException;
import dev.streamtune.ingest.normalize.ConversationId;
import dev.streamtune.ingest.normalize.ConversationNormalizer;
import dev.streamtune.ingest.reader.RawRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Understands the records of one ingestion: reads each in its format (rebuilding OASST threads from the flat message
 * export), normalises its messages, applies the filters and gives each conversation its content id. Every record
 * ends in a {@link Verdicts}: a candidate for publication, a dead letter with its reason, or unused with its reason.
 * Nothing here throws for bad input.
 *
 * <p>Public, with {@link ChunkDeduplicator}, {@link Candidate} and {@link SplitAssigner}, so that the pipeline
 * benchmark can chain the door's own steps without Kafka or a database.
 */
public final class RecordUnderstanding {

    private static final JsonNode NO_INPUT = JsonNodeFactory.instance.objectNode();

    /** What became of the records understood. */
    public interface Verdicts {

        /** A record was read as this format (an OASST tree once for each conversation it yields). */
        void read(RecordFormat format);

        /** A conversation that passed parsing, normalisation and filters. */
        void candidate(Candidate candidate);

        /** A record that cannot become a conversation, with the reason a person needs. */
        void rejected(DeadLetter letter);

        /** A well-formed record that is not taken, and why. */
        void unused(String reason);
    }

    private final String dataset;
    private final Door door;
    private final IngestOptions options;
    private final int payloadLimit;
    private final Verdicts verdicts;
    private final OasstThreadBuilder oasst;

    /** @param oasstTreeLimit the most bytes of flat OASST rows one tree may hold (ingest.oasst-max-tree-size) */
    public RecordUnderstanding(
            String dataset,
            Door door,
            IngestOptions options,
            int payloadLimit,
            long oasstTreeLimit,
            Verdicts verdicts) {
        this.dataset = dataset;
        this.door = door;
        this.options = options;
        this.payloadLimit = payloadLimit;
        this.verdicts = verdicts;
        this.oasst = new OasstThreadBuilder(options.format(), oasstTreeLimit);
    }

    /**
     * Understands one record. A row of the flat OASST export is held with the rest of its tree, which is linked
     * into threads when a row of the next tree arrives or at {@link #finish}.
     */
    public void accept(RawRecord raw) {
        if (!raw.isParsed()) {
            reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), raw.problem(), null);
        } else if (door != Door.TOPIC && RecordFormats.isOasstMessageRow(raw.value(), options.format())) {
            // A stream has no end at which to link threads: a message on the topic must be a conversation on its own.
            try {
                understand(oasst.add(raw.value(), raw.source(), raw.payloadBytes(), raw.payloadSize()));
            } catch (RecordException e) {
                reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), located(raw.source(), e), e.field());
            }
        } else {
            try {
                for (ParsedRecord record : RecordFormats.read(raw.value(), options.format())) {
                    consider(raw.source(), raw.value(), raw.payloadBytes(), raw.payloadSize(), record);
                }
            } catch (UnusableRecordException e) {
                verdicts.unused(e.getMessage());
            } catch (RecordException e) {
                reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), located(raw.source(), e), e.field());
            }
        }
    }

    /** Refuses a record for a problem found outside its content, such as a header, located like any other. */
    void refuse(RawRecord raw, String problem) {
        reject(raw.source(), raw.payloadBytes(), raw.payloadSize(), located(raw.source(), problem), null);
    }

    /** Links the OASST message rows still held into threads and understands their conversations. */
    void finish() {
        understand(oasst.finish());
    }

    /** How many flat OASST message rows are held, waiting for the rest of their tree. */
    int heldOasstMessages() {
        return oasst.heldMessages();
    }

    private void understand(List<OasstThreadBuilder.Thread> threads) {
        for (OasstThreadBuilder.Thread thread : threads) {
            if (thread.problem() instanceof UnusableRecordException) {
                verdicts.unused(thread.problem().getMessage());
            } else if (thread.problem() != null) {
                reject(
                        thread.source(),
                        thread.payload(),
                        thread.payloadSize(),
                        located(thread.source(), thread.problem()),
                        thread.problem().field());
            } else {
                for (ParsedRecord record : thread.conversations()) {
                    // A rebuilt thread has no input record of its own for record filters to look at.
                    consider(thread.source(), NO_INPUT, new byte[0], 0, record);
                }
            }
        }
    }

    private void consider(SourceRef from, JsonNode input, byte[] payload, long payloadSize, ParsedRecord record) {
        verdicts.read(record.format());
        List<Message> messages;
        try {
            messages = ConversationNormalizer.normalize(record.messages(), options.normalization());
        } catch (RecordException e) {
            reject(from, payload, payloadSize, located(from, e), e.field());
            return;
        }
        Optional<String> excluded = options.filter().exclusion(input, record, messages);
        if (excluded.isPresent()) {
            verdicts.unused(excluded.get());
            return;
        }
        verdicts.candidate(new Candidate(new Conversation(
                Conversation.SCHEMA_VERSION,
                ConversationId.of(messages),
                dataset,
                from,
                Split.TRAIN,
                messages,
                record.metadata().isEmpty() ? null : record.metadata(),
                record.format().wireName(),
                record.instruction(),
                Instant.now())));
    }

    private void reject(SourceRef from, byte[] payload, long payloadSize, String reason, String field) {
        verdicts.rejected(DeadLetter.from("ingest", from)
                .dataset(dataset)
                .field(field)
                .reason(reason)
                .payloadHead(payload, payloadSize)
                .payloadLimit(payloadLimit)
                .build());
    }

    private static String located(SourceRef from, RecordException e) {
        return located(from, e.getMessage());
    }

    /** Prefixes a record problem with where the record is: "line 5: ...", "row 3: ...", "offset 17: ...". */
    private static String located(SourceRef from, String problem) {
        String where;
        if (from.kind() == SourceRef.Kind.TOPIC) {
            where = "partition " + from.partition() + " offset " + from.offset();
        } else if (from.line() != null) {
            where = "line " + from.line();
        } else {
            where = "record " + from.record();
        }
        return where + ": " + problem;
    }
}
