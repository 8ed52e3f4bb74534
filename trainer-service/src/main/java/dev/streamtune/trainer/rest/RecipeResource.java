package dev.streamtune.trainer.rest;

import dev.streamtune.events.Recipe;
import dev.streamtune.events.Topics;
import dev.streamtune.events.recipe.RecipeParser;
import dev.streamtune.events.recipe.RecipeSchema;
import dev.streamtune.streams.Outgoing;
import dev.streamtune.streams.StageRuntime;
import dev.streamtune.trainer.plan.TrainingPlan;
import dev.streamtune.trainer.worker.TrainWorker;
import dev.streamtune.trainer.worker.TrainerStage;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Recipes in: YAML or JSON as users write them for TRL, PEFT, Axolotl or the JoLA authors' trainer. A recipe is read
 * by {@link RecipeParser}, checked against its model ({@code TrainingPlans}), and published on the compacted
 * {@code recipes} topic, from which every stage (this one included) starts its work for it.
 */
@Path("/recipes")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RecipeResource {

    /** An accepted recipe: its id, its run, and what the reader should know (unknown keys, settings without effect). */
    public record Accepted(String id, String runId, String method, List<String> warnings) {}

    /** A recipe as this instance carries it out. */
    public record RecipeView(String id, String runId, Recipe recipe) {}

    private final TrainerStage stage;

    public RecipeResource(TrainerStage stage) {
        this.stage = stage;
    }

    @POST
    @Consumes({
        MediaType.APPLICATION_JSON,
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        MediaType.TEXT_PLAIN,
        MediaType.WILDCARD
    })
    public Response submit(String body) {
        RecipeParser.Result parsed = RecipeParser.parse(body == null ? "" : body, "request body");
        TrainingPlan plan = stage.plans().of(parsed.recipe());
        List<String> warnings = new ArrayList<>(parsed.warnings());
        warnings.addAll(plan.warnings());
        runtime()
                .context()
                .publisher()
                .publish(new Outgoing(Topics.RECIPES, parsed.recipe().id(), parsed.recipe()));
        String runId = TrainerStage.runId(parsed.recipe().id(), TrainerStage.hash(parsed.recipe()));
        return Response.accepted(new Accepted(
                        parsed.recipe().id(), runId, plan.method().name().toLowerCase(), warnings))
                .build();
    }

    @GET
    public List<RecipeView> list() {
        Map<String, TrainWorker> workers = runtime().workers();
        return runtime().recipes().values().stream()
                .map(recipe -> view(recipe, workers.get(recipe.id())))
                .toList();
    }

    /** The recipe's JSON Schema, for editors to autocomplete and check recipes with (docs/recipe.schema.json). */
    @GET
    @Path("/schema")
    @Produces({"application/schema+json", MediaType.APPLICATION_JSON})
    public String schema() {
        return RecipeSchema.jsonSchema().toPrettyString(); // as text: this service writes JSON with JSON-B
    }

    @GET
    @Path("/{id}")
    public RecipeView get(@PathParam("id") String id) {
        Recipe recipe = runtime().recipes().get(id);
        if (recipe == null) {
            throw new NotFoundException("no active recipe " + id
                    + (runtime().recipesKnown() ? "" : " (the recipes topic is still being read)"));
        }
        return view(recipe, runtime().workers().get(id));
    }

    /** Retires a recipe: a tombstone on the recipes topic stops its work in every stage. */
    @DELETE
    @Path("/{id}")
    public Response delete(@PathParam("id") String id) {
        if (!runtime().recipes().containsKey(id)) {
            throw new NotFoundException("no active recipe " + id);
        }
        runtime().context().publisher().publish(new Outgoing(Topics.RECIPES, id, null));
        return Response.accepted(Map.of("id", id, "deleted", true)).build();
    }

    private static RecipeView view(Recipe recipe, TrainWorker worker) {
        return new RecipeView(recipe.id(), worker == null ? null : worker.runId(), recipe);
    }

    private StageRuntime<TrainWorker> runtime() {
        StageRuntime<TrainWorker> runtime = stage.runtime();
        if (runtime == null) {
            throw new ServiceUnavailableException("the trainer is starting");
        }
        return runtime;
    }
}
