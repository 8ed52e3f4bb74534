package dev.streamtune.eval.watch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.streamtune.eval.worker.EvalStage;
import dev.streamtune.events.Recipe;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the page at {@code /watch} shows beside eval-service's own results ({@code /recipes/{id}/evaluations},
 * {@code /evaluations/{id}/samples}): the recipes, each recipe's training runs with their loss per step (from
 * trainer-service), what format and tokenize counted for it, how far behind each stage has been over the recent past,
 * and its dead letters by reason.
 */
@Path("/watch/api")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class WatchResource {

    /** A recipe as the page lists it. */
    public record RecipeEntry(String recipeId, String name, String method, Set<String> datasets) {}

    /** A recipe's training: each run of it (newest first) and the loss of every step of the newest. */
    public record Training(String recipeId, List<JsonNode> runs, JsonNode steps) {}

    /** What the stages before training did for a recipe, and what they refused. */
    public record Stages(
            String recipeId, JsonNode format, JsonNode tokenize, List<DeadLetterTally.Group> deadLetters) {}

    private final EvalStage stage;
    private final ServiceApis services;
    private final DeadLetterTally deadLetters;
    private final LagSampler lagSampler;

    public WatchResource(EvalStage stage, ServiceApis services, DeadLetterTally deadLetters, LagSampler lagSampler) {
        this.stage = stage;
        this.services = services;
        this.deadLetters = deadLetters;
        this.lagSampler = lagSampler;
    }

    @GET
    @Path("recipes")
    public List<RecipeEntry> recipes() {
        Map<String, RecipeEntry> entries = new TreeMap<>();
        if (stage.runtime() != null) {
            stage.runtime()
                    .recipes()
                    .values()
                    .forEach(recipe -> entries.put(
                            recipe.id(),
                            new RecipeEntry(recipe.id(), recipe.name(), method(recipe), datasets(recipe))));
        }
        return new ArrayList<>(entries.values());
    }

    @GET
    @Path("recipes/{id}/training")
    public Training training(@PathParam("id") String recipeId) {
        known(recipeId);
        JsonNode all = services.trainer("/runs");
        if (all.has("unavailable")) {
            return new Training(recipeId, List.of(), all);
        }
        List<JsonNode> runs = ServiceApis.runsOf(all, recipeId);
        JsonNode steps = runs.isEmpty()
                ? JsonNodeFactory.instance.arrayNode()
                : services.trainer(
                        "/runs/" + ServiceApis.segment(runs.get(0).path("id").asText()) + "/steps?limit=" + CURVE_POINTS
                                + "&stride=" + stride(runs.get(0).path("step").asLong()));
        return new Training(recipeId, runs, steps);
    }

    /** About how many points of a run's loss curve the page draws: a long run's curve is thinned out to them. */
    static final int CURVE_POINTS = 2_000;

    /** Every how many steps a curve of {@code steps} steps is sampled to draw at most {@link #CURVE_POINTS}. */
    static long stride(long steps) {
        return Math.max(1, (steps + CURVE_POINTS - 1) / CURVE_POINTS);
    }

    @GET
    @Path("recipes/{id}/stages")
    public Stages stages(@PathParam("id") String recipeId) {
        Recipe recipe = known(recipeId);
        String path = "/recipes/" + ServiceApis.segment(recipeId);
        return new Stages(
                recipeId, services.format(path), services.tokenize(path), deadLetters.of(recipeId, datasets(recipe)));
    }

    /** The recipe's lag per stage over the recent past, oldest sample first (see {@link LagHistory}). */
    @GET
    @Path("recipes/{id}/lag")
    public List<LagHistory.Sample> lag(@PathParam("id") String recipeId) {
        known(recipeId);
        return lagSampler.of(recipeId);
    }

    private Recipe known(String recipeId) {
        Recipe recipe =
                stage.runtime() == null ? null : stage.runtime().recipes().get(recipeId);
        if (recipe == null) {
            throw new NotFoundException("recipe " + recipeId + " is not one eval-service knows");
        }
        return recipe;
    }

    /** The datasets the recipe reads, as format-service reads them (none: every dataset). */
    private static Set<String> datasets(Recipe recipe) {
        return recipe.dataConfig() == null ? Set.of() : recipe.dataConfig().datasetNames();
    }

    /** The method the recipe parser settled (training_config.finetuning_type). */
    private static String method(Recipe recipe) {
        return recipe.trainingConfig() == null ? null : recipe.trainingConfig().finetuningType();
    }
}
