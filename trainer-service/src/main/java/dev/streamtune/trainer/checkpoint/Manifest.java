package dev.streamtune.trainer.checkpoint;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.streamtune.lm.jola.GateSchedule;
import java.time.Instant;
import java.util.Map;

/**
 * {@code checkpoint.json}: what a checkpoint folder holds and where its run stood, written last, inside the folder
 * before it is renamed into place; a folder without it, or whose files no longer match its checksum, is not a
 * checkpoint.
 *
 * @param consumedOffsets per partition of {@code batches}, the next offset to read: a resumed run seeks there
 * @param startOffsets    per partition, the first offset of the run: with consumedOffsets, the batches it trained on
 * @param microBatches    batches trained by the run, replays included
 * @param epochEnd        per partition, the end of the data (the first pass's end) once the stream went quiet in a
 *                        run with epochs; null while the first pass is open or without epochs
 * @param epochBatches    batches in one pass over the data, once known
 * @param batchesTopicId  Kafka's id of the {@code batches} topic the offsets refer to: a topic deleted and created
 *                        again has a new id, and these offsets then mean nothing (absent in older checkpoints)
 * @param checksum        {@code CheckpointDigest} over the folder's other files
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        int version,
        String recipeId,
        String runId,
        long step,
        long tokensSeen,
        double trainLoss,
        String format,
        Map<Integer, Long> consumedOffsets,
        Map<Integer, Long> startOffsets,
        GateSchedule.State gateSchedule,
        long lastBatchSequence,
        long microBatches,
        Map<Integer, Long> epochEnd,
        Long epochBatches,
        String batchesTopicId,
        String checksum,
        Instant createdAt) {

    public static final int VERSION = 1;

    public Manifest withChecksum(String value) {
        return new Manifest(
                version,
                recipeId,
                runId,
                step,
                tokensSeen,
                trainLoss,
                format,
                consumedOffsets,
                startOffsets,
                gateSchedule,
                lastBatchSequence,
                microBatches,
                epochEnd,
                epochBatches,
                batchesTopicId,
                value,
                createdAt);
    }
}
