package dev.streamtune.format.rest;

import dev.streamtune.format.processor.FormatWorkers;
import jakarta.inject.Inject;
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

    @Inject
    FormatWorkers workers;

    @GET
    public Collection<FormatWorkers.Status> all() {
        return workers.status().values();
    }

    @GET
    @Path("/{id}")
    public FormatWorkers.Status one(@PathParam("id") String id) {
        FormatWorkers.Status status = workers.status().get(id);
        if (status == null) {
            throw new NotFoundException("recipe " + id + " is not active in this format-service");
        }
        return status;
    }
}
