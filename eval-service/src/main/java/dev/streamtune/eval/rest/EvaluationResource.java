package dev.streamtune.eval.rest;

import dev.streamtune.eval.report.CheckpointRanking;
import dev.streamtune.eval.report.CheckpointRanking.Best;
import dev.streamtune.eval.report.EvaluationReports;
import dev.streamtune.eval.report.EvaluationReports.CheckpointView;
import dev.streamtune.eval.report.EvaluationReports.EvaluationView;
import dev.streamtune.eval.report.EvaluationReports.SampleView;
import dev.streamtune.eval.report.EvaluationReports.SetsView;
import dev.streamtune.events.Split;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * What the evaluator found: every evaluation of a recipe, its best checkpoint by a metric, and the generations. The
 * reports are assembled by {@link EvaluationReports} and the best checkpoint chosen by {@link CheckpointRanking};
 * this class only maps them to HTTP.
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class EvaluationResource {

    private final EvaluationReports reports;
    private final CheckpointRanking ranking;

    public EvaluationResource(EvaluationReports reports, CheckpointRanking ranking) {
        this.reports = reports;
        this.ranking = ranking;
    }

    @GET
    @Path("recipes/{id}/evaluations")
    public List<EvaluationView> evaluations(@PathParam("id") String recipeId) {
        return reports.evaluations(recipeId)
                .orElseThrow(() -> new NotFoundException(
                        "no evaluations of recipe " + recipeId + ", and it is not a recipe this service knows"));
    }

    @GET
    @Path("recipes/{id}/checkpoints")
    public List<CheckpointView> checkpoints(@PathParam("id") String recipeId) {
        return reports.checkpoints(recipeId);
    }

    @GET
    @Path("recipes/{id}/sets")
    public SetsView sets(@PathParam("id") String recipeId) {
        return reports.sets(recipeId);
    }

    /** The examples of a split's set in their order: evaluations on n examples use the first n of them. */
    @GET
    @Path("recipes/{id}/sets/{split}")
    public List<String> setKeys(@PathParam("id") String recipeId, @PathParam("split") String split) {
        Split which;
        try {
            which = Split.fromWireName(split);
        } catch (IllegalArgumentException e) {
            throw new NotFoundException("no split '" + split + "': valid or test");
        }
        return reports.setKeys(recipeId, which);
    }

    /**
     * The best scored checkpoint of a recipe by {@code metric}: a split ({@code valid}, or {@code eval} as Hugging
     * Face names it, or {@code test}) and a measure (loss, perplexity, token_accuracy, or a generation metric such as
     * rouge_l), e.g. {@code valid_loss}.
     */
    @GET
    @Path("recipes/{id}/best")
    public Best best(
            @PathParam("id") String recipeId, @QueryParam("metric") @DefaultValue("valid_loss") String metric) {
        CheckpointRanking.Metric by = CheckpointRanking.Metric.parse(metric);
        return ranking.best(recipeId, by)
                .orElseThrow(() -> new NotFoundException(
                        "recipe " + recipeId + " has no scored checkpoint on " + by.split() + " yet"));
    }

    @GET
    @Path("evaluations/{id}/samples")
    public List<SampleView> samples(@PathParam("id") long evaluationId) {
        return reports.samples(evaluationId).orElseThrow(() -> new NotFoundException("no evaluation " + evaluationId));
    }
}
