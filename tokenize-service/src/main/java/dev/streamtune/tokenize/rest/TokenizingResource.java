package dev.streamtune.tokenize.rest;

import dev.streamtune.events.Split;
import dev.streamtune.tokenize.export.NanoGptExport;
import dev.streamtune.tokenize.recipe.TokenizePlan;
import dev.streamtune.tokenize.worker.TokenizeStage;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.OutputStream;
import java.util.Collection;

/** What this instance tokenizes: each active recipe's tokenizer, settings and accounting since its worker started. */
@Path("/recipes")
@Produces(MediaType.APPLICATION_JSON)
public class TokenizingResource {

    private final TokenizeStage stage;

    public TokenizingResource(TokenizeStage stage) {
        this.stage = stage;
    }

    @GET
    public Collection<TokenizeStage.Status> all() {
        return stage.status().values();
    }

    /**
     * The recipe's tokens of one split in nanoGPT's format: flat little-endian uint16 ids (uint32 for vocabularies
     * over 65,535), documents one after the other. {@code export.json} is its sidecar.
     */
    @GET
    @Path("/{id}/export.bin")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response export(@PathParam("id") String id, @QueryParam("split") @DefaultValue("train") String split) {
        TokenizePlan plan = activePlan(id);
        Split which = parseSplit(split);
        StreamingOutput body = out -> new NanoGptExport(stage.kafka())
                .write(id, which, plan.tokenizer().name(), plan.tokenizer().vocabSize(), out);
        return Response.ok(body)
                .header("Content-Disposition", "attachment; filename=\"" + which.wireName() + ".bin\"")
                .header("X-Token-Dtype", NanoGptExport.dtype(plan.tokenizer().vocabSize()))
                .build();
    }

    @GET
    @Path("/{id}/export.json")
    public NanoGptExport.Sidecar exportSidecar(
            @PathParam("id") String id, @QueryParam("split") @DefaultValue("train") String split) {
        TokenizePlan plan = activePlan(id);
        return new NanoGptExport(stage.kafka())
                .write(
                        id,
                        parseSplit(split),
                        plan.tokenizer().name(),
                        plan.tokenizer().vocabSize(),
                        OutputStream.nullOutputStream());
    }

    private TokenizePlan activePlan(String id) {
        TokenizePlan plan = stage.plan(id);
        if (plan == null) {
            throw new NotFoundException("recipe " + id + " is not active in this tokenize-service");
        }
        return plan;
    }

    private static Split parseSplit(String split) {
        for (Split candidate : Split.values()) {
            if (candidate.wireName().equals(split)) {
                return candidate;
            }
        }
        throw new BadRequestException("split '" + split + "': expected train, valid or test");
    }

    @GET
    @Path("/{id}")
    public TokenizeStage.Status one(@PathParam("id") String id) {
        TokenizeStage.Status status = stage.status().get(id);
        if (status == null) {
            throw new NotFoundException("recipe " + id + " is not active in this tokenize-service");
        }
        return status;
    }
}
