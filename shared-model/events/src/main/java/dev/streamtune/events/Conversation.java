package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A normalised conversation on the {@code conversations} topic, keyed by {@link #id()}.
 *
 * @param id        stable content hash of the canonical messages (see ingest's ConversationId), so the same
 *                  conversation ingested twice has the same id and key
 * @param dataset   the dataset it was ingested into
 * @param source    where it came from (file and line, or topic and offset)
 * @param split     train / valid / test, a deterministic function of id and the dataset's seed
 * @param messages  the turns, roles normalised, content untouched
 * @param metadata  the input record's metadata object, kept as given (filters and later stages may read it)
 * @param format    the input format it was read as (sharegpt, openai, alpaca, dolly, oasst, prompt-response, text)
 * @param instruction for instruction-style records, the instruction and input kept apart (else null)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Conversation(
        int schemaVersion,
        String id,
        String dataset,
        SourceRef source,
        Split split,
        List<Message> messages,
        JsonNode metadata,
        String format,
        InstructionParts instruction,
        Instant ingestedAt)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public Conversation {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(split, "split");
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
    }

    /** The same conversation assigned to another split. */
    public Conversation withSplit(Split newSplit) {
        return new Conversation(
                schemaVersion, id, dataset, source, newSplit, messages, metadata, format, instruction, ingestedAt);
    }
}
