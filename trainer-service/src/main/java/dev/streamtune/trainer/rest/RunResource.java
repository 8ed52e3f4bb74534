package dev.streamtune.trainer.rest;

import dev.streamtune.trainer.run.RunEvaluation;
import dev.streamtune.trainer.run.RunTransition;
import dev.streamtune.trainer.run.TrainingStepRow;
import dev.streamtune.trainer.service.CheckpointArchive;
import dev.streamtune.trainer.service.CheckpointLineage;
import dev.streamtune.trainer.service.MergedExports;
import dev.streamtune.trainer.service.RunService;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** Training runs: their state and figures, loss curves, checkpoints, stop and resume, lineage and export. */
@Path("/runs")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RunResource {

    private final RunService runs;
    private final CheckpointLineage lineage;
    private final MergedExports exports;

    public RunResource(RunService runs, CheckpointLineage lineage, MergedExports exports) {
        this.runs = runs;
        this.lineage = lineage;
        this.exports = exports;
    }

    @GET
    public List<RunService.RunView> list() {
        return runs.list();
    }

    @GET
    @Path("/{id}")
    public RunService.RunView get(@PathParam("id") String id) {
        return runs.get(id);
    }

    /** The most rows one answer of {@code /steps} or one page of a lineage carries. */
    static final int MAX_PAGE = 100_000;

    /**
     * The loss curve, a page at a time: from step {@code from} on, every {@code stride}-th step, at most {@code limit}
     * rows (10,000 unless asked). A full page links to the next one ({@code Link: <...>; rel="next"}), so a run that
     * has trained for weeks is read in pages, or thinned out with {@code stride}, never in one answer.
     */
    @GET
    @Path("/{id}/steps")
    public Response steps(
            @PathParam("id") String id,
            @QueryParam("from") @DefaultValue("0") long from,
            @QueryParam("limit") @DefaultValue("10000") int limit,
            @QueryParam("stride") @DefaultValue("1") int stride) {
        Paging.check("from", from, 0, Long.MAX_VALUE);
        Paging.check("limit", limit, 1, MAX_PAGE);
        Paging.check("stride", stride, 1, Integer.MAX_VALUE);
        List<TrainingStepRow> rows = runs.steps(id, from, limit, stride);
        Response.ResponseBuilder answer = Response.ok(rows);
        if (rows.size() == limit) {
            long next = rows.get(rows.size() - 1).step + 1;
            answer.link("/runs/" + id + "/steps?from=" + next + "&limit=" + limit + "&stride=" + stride, "next");
        }
        return answer.build();
    }

    @GET
    @Path("/{id}/transitions")
    public List<RunTransition> transitions(@PathParam("id") String id) {
        return runs.transitions(id);
    }

    /** The evaluations eval-service published for the run's checkpoints, by step and split. */
    @GET
    @Path("/{id}/evaluations")
    public List<RunEvaluation> evaluations(@PathParam("id") String id) {
        return runs.evaluations(id);
    }

    @GET
    @Path("/{id}/checkpoints")
    public List<RunService.CheckpointView> checkpoints(@PathParam("id") String id) {
        return runs.checkpoints(id);
    }

    @POST
    @Path("/{id}/stop")
    public Response stop(@PathParam("id") String id) {
        runs.stop(id);
        return Response.accepted(Map.of(
                        "id",
                        id,
                        "stopping",
                        true,
                        "note",
                        "the run stops between optimiser steps, after a checkpoint of its completed steps"))
                .build();
    }

    @POST
    @Path("/{id}/resume")
    public Response resume(@PathParam("id") String id) {
        runs.resume(id);
        return Response.accepted(Map.of("id", id, "resuming", true)).build();
    }

    /**
     * A run's checkpoint for use outside the platform: the run's artefact (its newest checkpoint, or its best with
     * load_best_model_at_end), or {@code step}: any kept step, or {@code best}; with {@code merge=true} its LoRA/DoRA
     * adapters folded into the base model as a Hugging Face folder; without, where its artefact is. A step not kept
     * is a 404, a best not scored yet a 409.
     */
    @POST
    @Path("/{id}/export")
    public MergedExports.Export export(
            @PathParam("id") String id, @QueryParam("merge") boolean merge, @QueryParam("step") String step) {
        return merge ? exports.merged(id, step) : exports.artefact(id, step);
    }

    /**
     * A kept checkpoint ({@code step}: its number, or best) as one tar, streamed; the archive's SHA-256 comes first,
     * in {@code Repr-Digest} (RFC 9530) and the ETag, and at {@code .../archive.sha256} for {@code sha256sum -c}.
     */
    @GET
    @Path("/{id}/checkpoints/{step}/archive")
    @Produces("application/x-tar")
    public Response archive(@PathParam("id") String id, @PathParam("step") String step) throws IOException {
        CheckpointArchive archive = exports.archive(id, step);
        String sha256 = archive.sha256();
        StreamingOutput body = archive::write;
        return Response.ok(body, "application/x-tar")
                .header("Content-Disposition", "attachment; filename=\"" + archive.fileName() + "\"")
                .header(
                        "Repr-Digest",
                        "sha-256=:"
                                + Base64.getEncoder()
                                        .encodeToString(HexFormat.of().parseHex(sha256)) + ":")
                .tag(sha256)
                .build();
    }

    /** The checkpoint archive's SHA-256 as sha256sum writes it: {@code <hex>  <file name>}. */
    @GET
    @Path("/{id}/checkpoints/{step}/archive.sha256")
    @Produces(MediaType.TEXT_PLAIN)
    public String archiveSha256(@PathParam("id") String id, @PathParam("step") String step) throws IOException {
        CheckpointArchive archive = exports.archive(id, step);
        return archive.sha256() + "  " + archive.fileName() + "\n";
    }

    @GET
    @Path("/{id}/checkpoints/{step}/lineage")
    public CheckpointLineage.Lineage lineage(
            @PathParam("id") String id,
            @PathParam("step") long step,
            @QueryParam("offset") @DefaultValue("0") long offset,
            @QueryParam("limit") @DefaultValue("10000") int limit) {
        Paging.check("offset", offset, 0, Long.MAX_VALUE);
        Paging.check("limit", limit, 1, MAX_PAGE);
        return lineage.of(id, step, offset, limit);
    }
}
