package dev.streamtune.format.rest;

import dev.streamtune.format.worker.FormatStage;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Collection;

/** What this instance formats: each active recipe's template, datasets and counts since the worker started. */
@Path("/recipes")
@Produces(MediaType.APPLICATION_JSON)
public class RecipeFormattingResource {

    private final FormatStage stage;

    public RecipeFormattingResource(FormatStage stage) {
        this.stage = stage;
    }

    @GET
    public Collection<FormatStage.Status> all() {
        return stage.status().values();
    }

    @GET
    @Path("/{id}")
    public FormatStage.Status one(@PathParam("id") String id) {
        FormatStage.Status status = stage.status().get(id);
        if (status == null) {
            throw new NotFoundException("recipe " + id + " is not active in this format-service");
        }
        return status;
    }
}
