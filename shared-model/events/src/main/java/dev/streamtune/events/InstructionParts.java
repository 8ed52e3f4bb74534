package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * The instruction and its optional input of an instruction-style record (Alpaca, Dolly), as given. The user
 * message of such a conversation holds them joined by a blank line, which chat templates render; an instruction
 * template (Alpaca's "### Instruction:" / "### Input:") needs them apart, and reads them here.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InstructionParts(String instruction, String input) {

    public InstructionParts {
        Objects.requireNonNull(instruction, "instruction");
    }
}
