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
 * batches left out. The counts cover all of them; the example keys come a page at a time, so that the lineage of a
 * checkpoint of a run that has trained for weeks is read in bounded memory.
 */
@ApplicationScoped
public class CheckpointLineage {

    /**
     * The examples a checkpoint was trained on: how many batches and examples, and from each dataset; and a page of
     * the example keys its batches carried (recipe:conversation, with #window and ~copy suffixes as the tokenize
     * stage names them), in the order they were trained, from {@code keysOffset} on, with their conversations.
     *
     * @param examples        the example keys of all the batches together
     * @param exampleKeys     at most the page's limit of them, from {@code keysOffset} on
     * @param conversationIds the conversations of the page's keys
     * @param nextOffset      where the next page starts; null on the last page
     */
    public record Lineage(
            String runId,
            long step,
            Map<Integer, Long> fromOffsets,
            Map<Integer, Long> untilOffsets,
            long batches,
            long examples,
            Map<String, Long> examplesPerDataset,
            long keysOffset,
            List<String> exampleKeys,
            List<String> conversationIds,
            Long nextOffset) {}

    private final RunStore runs;
    private final TrainerStage stage;

    public CheckpointLineage(RunStore runs, TrainerStage stage) {
        this.runs = runs;
        this.stage = stage;
    }

    /** The lineage of the checkpoint at {@code step}, with at most {@code limit} keys from the {@code offset}-th on. */
    public Lineage of(String runId, long step, long offset, int limit) {
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
        long[] examples = {0};
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
            for (String key : batch.exampleKeys()) {
                long index = examples[0]++;
                if (index >= offset && keys.size() < limit) {
                    keys.add(key);
                    conversations.add(conversationId(key));
                }
            }
            for (int i = 0; i < batch.exampleKeys().size(); i++) {
                String dataset = batch.exampleDatasets().isEmpty()
                        ? null
                        : batch.exampleDatasets().get(i);
                datasets.merge(dataset == null ? "(unknown)" : dataset, 1L, Long::sum);
            }
        });
        long end = offset + keys.size();
        return new Lineage(
                runId,
                step,
                from,
                until,
                count[0],
                examples[0],
                datasets,
                offset,
                keys,
                List.copyOf(conversations),
                end < examples[0] ? end : null);
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
