package dev.streamtune.tokenize.rest;

import dev.streamtune.tokenize.processor.TokenizeWorkers;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Collection;

/** What this instance tokenizes: each active recipe's tokenizer, settings and accounting since its worker started. */
@Path("/recipes")
@Produces(MediaType.APPLICATION_JSON)
public class TokenizingResource {

    @Inject
    TokenizeWorkers workers;

    @GET
    public Collection<TokenizeWorkers.Status> all() {
        return workers.status().values();
    }

    @GET
    @Path("/{id}")
    public TokenizeWorkers.Status one(@PathParam("id") String id) {
        TokenizeWorkers.Status status = workers.status().get(id);
        if (status == null) {
            throw new NotFoundException("recipe " + id + " is not active in this tokenize-service");
        }
        return status;
    }
}
