package dev.streamtune.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A checkpoint the trainer wrote, on {@code checkpoints} keyed by recipe id.
 *
 * @param location        URI of the checkpoint directory on the shared artefact volume
 * @param format          peft-lora, peft-dora, jola, hf-full
 * @param checksum        "sha256:" + hex digest over the checkpoint's files, to detect a torn or altered copy
 * @param consumedOffsets per partition of {@code batches}, the next offset to read after this checkpoint: a
 *                        restart seeks exactly there, so no batch is skipped or trained twice
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointEvent(
        int schemaVersion,
        String recipeId,
        String runId,
        long step,
        long tokensSeen,
        double trainLoss,
        String location,
        String format,
        String checksum,
        Map<Integer, Long> consumedOffsets,
        Instant createdAt)
        implements Event {

    public static final int SCHEMA_VERSION = 1;

    public CheckpointEvent {
        Objects.requireNonNull(recipeId, "recipeId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(location, "location");
        consumedOffsets = consumedOffsets == null ? Map.of() : Map.copyOf(consumedOffsets);
    }
}
