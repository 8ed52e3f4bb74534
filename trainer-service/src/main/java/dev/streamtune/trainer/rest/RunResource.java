package dev.streamtune.trainer.rest;

import dev.streamtune.events.TrainBatch;
import dev.streamtune.events.Topics;
import dev.streamtune.events.serde.TrainBatchDeserializer;
import dev.streamtune.streams.TopicReader;
import dev.streamtune.trainer.run.CheckpointRow;
import dev.streamtune.trainer.run.RunStore;
import dev.streamtune.trainer.run.RunTransition;
import dev.streamtune.trainer.run.TrainingRun;
import dev.streamtune.trainer.run.TrainingStepRow;
import dev.streamtune.trainer.worker.TrainWorker;
import dev.streamtune.trainer.worker.TrainerStage;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Training runs: their state and figures, loss curves, checkpoints, stop and resume, and lineage. */
@Path("/runs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RunResource {

    /** A run as users follow it. */
    public record RunView(String id, String recipeId, String method, String model, String state, String device,
                          String dtype, long step, Double epoch, Long maxSteps, long tokensSeen, Double learningRate, Double lastLoss,
                          List<Double> lastLosses, Double gradNorm, Double tokensPerSecond, Double etaSeconds,
                          Long lag, Long bestStep, Double bestValidLoss, String failure, Instant createdAt, Instant updatedAt) {
    }

    public record CheckpointView(long step, String location, String format, String checksum, long tokensSeen,
                                 double trainLoss, Map<Integer, Long> consumedOffsets, String status, boolean published,
                                 Instant createdAt) {
    }

    /**
     * The examples a checkpoint was trained on: the batches of its run from the run's first offsets to the
     * checkpoint's consumed offsets, the example keys they carried (recipe:conversation, with #window and ~copy
     * suffixes as the tokenize stage names them), their conversations, and how many examples came from each dataset.
     */
    public record Lineage(String runId, long step, Map<Integer, Long> fromOffsets, Map<Integer, Long> untilOffsets,
                          long batches, List<String> exampleKeys, List<String> conversationIds,
                          Map<String, Long> examplesPerDataset) {
    }

    @Inject
    RunStore runs;

    @Inject
    TrainerStage stage;

    @GET
    public List<RunView> list() {
        return runs.all().stream().map(this::view).toList();
    }

    @GET
    @Path("/{id}")
    public RunView get(@PathParam("id") String id) {
        return view(run(id));
    }

    @GET
    @Path("/{id}/steps")
    public List<TrainingStepRow> steps(@PathParam("id") String id) {
        run(id);
        return runs.steps(id);
    }

    @GET
    @Path("/{id}/transitions")
    public List<RunTransition> transitions(@PathParam("id") String id) {
        run(id);
        return runs.transitions(id);
    }

    /** The evaluations eval-service published for the run's checkpoints, by step and split. */
    @GET
    @Path("/{id}/evaluations")
    public List<dev.streamtune.trainer.run.RunEvaluation> evaluations(@PathParam("id") String id) {
        run(id);
        return runs.evaluations(id);
    }

    @GET
    @Path("/{id}/checkpoints")
    public List<CheckpointView> checkpoints(@PathParam("id") String id) {
        run(id);
        return runs.checkpoints(id).stream().map(RunResource::view).toList();
    }

    @POST
    @Path("/{id}/stop")
    public Response stop(@PathParam("id") String id) {
        run(id);
        if (!stage.stop(id)) {
            return ErrorMappers.error(409, "run " + id + " is not being trained by this instance (its recipe is not"
                    + " active, or it was replaced by a newer version)");
        }
        return Response.accepted(Map.of("id", id, "stopping", true,
                "note", "the run stops at its next optimiser step, after a checkpoint")).build();
    }

    @POST
    @Path("/{id}/resume")
    public Response resume(@PathParam("id") String id) {
        TrainingRun run = run(id);
        if (run.state.trains()) {
            return ErrorMappers.error(409, "run " + id + " is " + run.state + ", not stopped");
        }
        if (!stage.resume(id)) {
            return ErrorMappers.error(409, "run " + id + " cannot be resumed here: its recipe is not active");
        }
        return Response.accepted(Map.of("id", id, "resuming", true)).build();
    }

    /**
     * The run's newest checkpoint for use outside the platform: with {@code merge=true} its LoRA/DoRA adapters
     * folded into the base model as a Hugging Face folder (written once per checkpoint, under the run's folder);
     * without, where its artefact is.
     */
    @POST
    @Path("/{id}/export")
    public Response export(@PathParam("id") String id, @jakarta.ws.rs.QueryParam("merge") boolean merge) {
        run(id);
        CheckpointRow newest = runs.checkpoints(id).stream().filter(c -> CheckpointRow.AVAILABLE.equals(c.status))
                .reduce((a, b) -> b).orElseThrow(() -> new NotFoundException("run " + id + " has no checkpoint yet"));
        java.nio.file.Path folder = java.nio.file.Path.of(java.net.URI.create(newest.location));
        if (!merge) {
            return Response.ok(Map.of("step", newest.step, "format", newest.format, "location", newest.location)).build();
        }
        TrainWorker worker = stage.workerOf(id);
        if (worker == null) {
            return ErrorMappers.error(409, "run " + id + " is not active on this instance: its plan (the base model) is"
                    + " not known here");
        }
        java.nio.file.Path target = folder.resolveSibling("export-" + newest.step + "-merged");
        try {
            if (!java.nio.file.Files.exists(target)) {
                dev.streamtune.trainer.training.MergedExport.write(worker.plan(), folder, target);
            }
        } catch (IllegalArgumentException e) {
            return ErrorMappers.error(409, "run " + id + ": " + e.getMessage());
        } catch (java.io.IOException e) {
            return ErrorMappers.error(500, "run " + id + ": cannot write the merged export: " + e.getMessage());
        }
        return Response.ok(Map.of("step", newest.step, "format", "hf-merged", "location", target.toUri().toString()))
                .build();
    }

    @GET
    @Path("/{id}/checkpoints/{step}/lineage")
    public Lineage lineage(@PathParam("id") String id, @PathParam("step") long step) {
        TrainingRun run = run(id);
        CheckpointRow checkpoint = runs.checkpoint(id, step)
                .orElseThrow(() -> new NotFoundException("run " + id + " has no checkpoint at step " + step));
        Map<Integer, Long> from = RunStore.offsets(checkpoint.startOffsets);
        Map<Integer, Long> until = RunStore.offsets(checkpoint.trainedOffsets);
        TrainBatchDeserializer batches = new TrainBatchDeserializer();
        java.util.Set<String> rejected = runs.rejectedBatches(id);
        List<String> keys = new ArrayList<>();
        TreeSet<String> conversations = new TreeSet<>();
        Map<String, Long> datasets = new java.util.TreeMap<>();
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
                String dataset = batch.exampleDatasets().isEmpty() ? null : batch.exampleDatasets().get(i);
                datasets.merge(dataset == null ? "(unknown)" : dataset, 1L, Long::sum);
            }
        });
        return new Lineage(id, step, from, until, count[0], keys, List.copyOf(conversations), datasets);
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

    private TrainingRun run(String id) {
        return runs.find(id).orElseThrow(() -> new NotFoundException("no run " + id));
    }

    private RunView view(TrainingRun run) {
        List<TrainingStepRow> last = runs.lastSteps(run.id, 10);
        List<Double> losses = new ArrayList<>();
        for (int i = last.size() - 1; i >= 0; i--) {
            losses.add(last.get(i).loss);
        }
        Double eta = null;
        if (run.maxSteps != null && !last.isEmpty() && run.state.trains()) {
            double perStep = last.stream().mapToDouble(s -> s.seconds).average().orElse(0);
            eta = Math.max(0, run.maxSteps - run.step) * perStep;
        }
        TrainWorker worker = stage.workerOf(run.id);
        String device = run.device;
        if (worker != null && device == null) {
            device = worker.device();
        }
        // batches of the recipe on the topic that the run's consumer has not read yet (null: no worker, or not known yet)
        Long lag = worker == null || worker.workerState().lag() < 0 ? null : worker.workerState().lag();
        return new RunView(run.id, run.recipeId, run.method, run.model, run.state.name(), device, run.dtype, run.step,
                run.epoch, run.maxSteps, run.tokensSeen, run.learningRate, run.lastLoss, losses, run.gradNorm, run.tokensPerSecond,
                eta, lag, run.bestStep, run.bestValidLoss, run.failure, run.createdAt, run.updatedAt);
    }

    private static CheckpointView view(CheckpointRow row) {
        return new CheckpointView(row.step, row.location, row.format, row.checksum, row.tokensSeen, row.trainLoss,
                RunStore.offsets(row.consumedOffsets), row.status, row.published, row.createdAt);
    }
}
