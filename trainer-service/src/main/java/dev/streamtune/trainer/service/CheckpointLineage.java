package dev.streamtune.trainer.service;

import dev.streamtune.events.Topics;
import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.trainer.run.RunStore;
import dev.streamtune.trainer.run.SavedCheckpointRow;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.worker.TrainerStage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.NotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which examples a checkpoint was trained on, read back from the {@code batches} topic (the log is the dataset):
 * the batches of its run from the run's first offsets to the offsets the checkpoint trained up to, dead-lettered
 * batches left out.
 */
@ApplicationScoped
public class CheckpointLineage {

    /**
     * The examples a checkpoint was trained on: the example keys its batches carried (recipe:conversation, with
     * #window and ~copy suffixes as the tokenize stage names them), their conversations, and how many examples came
     * from each dataset.
     */
    public record Lineage(
            String runId,
            long step,
            Map<Integer, Long> fromOffsets,
            Map<Integer, Long> untilOffsets,
            long batches,
            List<String> exampleKeys,
            List<String> conversationIds,
            Map<String, Long> examplesPerDataset) {}

    private final RunStore runs;
    private final TrainerStage stage;

    public CheckpointLineage(RunStore runs, TrainerStage stage) {
        this.runs = runs;
        this.stage = stage;
    }

    public Lineage of(String runId, long step) {
        TrainingRun run = runs.find(runId).orElseThrow(() -> new NotFoundException("no run " + runId));
        SavedCheckpointRow checkpoint = runs.checkpoint(runId, step)
                .orElseThrow(() -> new NotFoundException("run " + runId + " has no checkpoint at step " + step));
        Map<Integer, Long> from = RunStore.offsets(checkpoint.startOffsets);
        Map<Integer, Long> until = RunStore.offsets(checkpoint.trainedOffsets);
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        Set<String> rejected = runs.rejectedBatches(runId);
        List<String> keys = new ArrayList<>();
        TreeSet<String> conversations = new TreeSet<>();
        Map<String, Long> datasets = new TreeMap<>();
        long[] count = {0};
        new TopicReader(stage.runtime().context().kafka()).forEachBetween(Topics.BATCHES, from, until, record -> {
            if (!run.recipeId.equals(record.key()) || rejected.contains(record.partition() + "@" + record.offset())) {
                return; // another recipe's, or dead-lettered and never trained
            }
            TrainBatch batch;
            try {
                batch = batches.deserialize(record.topic(), record.value());
            } catch (RuntimeException e) {
                return; // unreadable: dead-lettered, never trained
            }
            count[0]++;
            keys.addAll(batch.exampleKeys());
            batch.exampleKeys().forEach(key -> conversations.add(conversationId(key)));
            for (int i = 0; i < batch.exampleKeys().size(); i++) {
                String dataset = batch.exampleDatasets().isEmpty()
                        ? null
                        : batch.exampleDatasets().get(i);
                datasets.merge(dataset == null ? "(unknown)" : dataset, 1L, Long::sum);
            }
        });
        return new Lineage(runId, step, from, until, count[0], keys, List.copyOf(conversations), datasets);
    }

    /** recipe:conversation#window~copy -> conversation. */
    static String conversationId(String exampleKey) {
        String rest = exampleKey.substring(exampleKey.indexOf(':') + 1);
        int cut = rest.length();
        for (char marker : new char[] {'#', '~'}) {
            int at = rest.indexOf(marker);
            if (at >= 0) {
                cut = Math.min(cut, at);
            }
        }
        return rest.substring(0, cut);
    }
}
