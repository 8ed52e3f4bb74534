package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.InstructionParts;
import dev.streamtune.events.Message;
import java.util.List;

/**
 * What a record format makes of one input record, before normalisation: the turns with their roles resolved,
 * the metadata worth keeping, and for instruction-style records the instruction parts.
 */
public record ParsedRecord(
        RecordFormat format, List<Message> messages, ObjectNode metadata, InstructionParts instruction) {

    public ParsedRecord {
        messages = List.copyOf(messages);
    }
}
