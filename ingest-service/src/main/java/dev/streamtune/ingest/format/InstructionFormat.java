package dev.streamtune.ingest.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.InstructionParts;
import dev.streamtune.events.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * The instruction-response dialects: Alpaca, Dolly 15k and the unified {prompt, response, source} records. Each
 * becomes an optional system turn, one user turn (the instruction, then a blank line and the input when there is
 * one) and one assistant turn; the instruction and input are also kept apart for instruction templates.
 */
final class InstructionFormat implements ConversationFormat {

    /** Alpaca and its aliases, the Primus table: the first name present wins, in this order. */
    static final FieldMapping.FieldName ALPACA_INSTRUCTION =
            new FieldMapping.FieldName("instruction", List.of("instruction", "prompt", "question"));

    static final FieldMapping.FieldName ALPACA_ANSWER =
            new FieldMapping.FieldName("output", List.of("response", "output", "answer"));

    private final RecordFormat format;
    private final FieldMapping.FieldName instruction;
    private final String input;
    private final FieldMapping.FieldName answer;
    private final String keptInMetadata;

    private InstructionFormat(
            RecordFormat format,
            FieldMapping.FieldName instruction,
            String input,
            FieldMapping.FieldName answer,
            String keptInMetadata) {
        this.format = format;
        this.instruction = instruction;
        this.input = input;
        this.answer = answer;
        this.keptInMetadata = keptInMetadata;
    }

    /** {@code instruction}, optional {@code input}, {@code output}, optional {@code system}, with aliases. */
    static InstructionFormat alpaca() {
        return new InstructionFormat(RecordFormat.ALPACA, ALPACA_INSTRUCTION, "input", ALPACA_ANSWER, null);
    }

    /** Databricks Dolly 15k: {@code instruction}, {@code context}, {@code response}, {@code category}. */
    static InstructionFormat dolly() {
        return new InstructionFormat(
                RecordFormat.DOLLY, single("instruction"), "context", single("response"), "category");
    }

    /** The SFT preparation's unified records: {@code prompt}, {@code response}, {@code source}. */
    static InstructionFormat promptResponse() {
        return new InstructionFormat(
                RecordFormat.PROMPT_RESPONSE, single("prompt"), null, single("response"), "source");
    }

    private static FieldMapping.FieldName single(String name) {
        return new FieldMapping.FieldName(name, List.of(name));
    }

    @Override
    public RecordFormat format() {
        return format;
    }

    @Override
    public boolean recognises(JsonNode record, FieldMapping mapping) {
        boolean core = mapping.has(record, instruction) && mapping.has(record, answer);
        return switch (format) {
            case DOLLY -> core && (record.has("context") || record.has("category"));
            case PROMPT_RESPONSE -> core && !record.has("instruction") && !record.has("input");
            default -> core;
        };
    }

    @Override
    public List<ParsedRecord> read(JsonNode record, FormatOptions options) throws RecordException {
        FieldMapping mapping = options.mapping();
        FieldMapping.Lookup instructionField = mapping.find(record, instruction);
        String instructionText = Fields.text(instructionField);
        String inputText = input == null ? null : Fields.optionalText(mapping.find(record, input));
        String answerText = Fields.text(mapping.find(record, answer));
        String system = Fields.optionalText(mapping.find(record, "system"));

        List<Message> messages = new ArrayList<>();
        if (system != null && !system.isEmpty()) {
            messages.add(Message.system(system));
        }
        boolean hasInput = inputText != null && !inputText.isEmpty();
        messages.add(Message.user(hasInput ? instructionText + "\n\n" + inputText : instructionText));
        messages.add(Message.assistant(answerText));

        ObjectNode metadata = Fields.metadataOf(record);
        Fields.keepSourceId(record, metadata);
        if (keptInMetadata != null && record.hasNonNull(keptInMetadata)) {
            metadata.set(keptInMetadata, record.get(keptInMetadata));
        }
        InstructionParts parts = new InstructionParts(instructionText, hasInput ? inputText : null);
        return List.of(new ParsedRecord(format, messages, metadata, parts));
    }
}
