package dev.streamtune.trainer.rest;

import dev.streamtune.streams.AccessTokens;
import dev.streamtune.streams.ProblemType;
import dev.streamtune.trainer.config.TrainerConfig;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The service's roles ({@link AccessTokens}): when {@code trainer.auth.token} is set, every endpoint that changes
 * something needs {@code Authorization: Bearer <token>}; when {@code trainer.auth.read-token} is set, the reads do
 * too (either token). Health and metrics under /q/ stay open for probes and scrapers.
 */
public class BearerTokenFilter {

    private final AccessTokens tokens;

    public BearerTokenFilter(TrainerConfig config) {
        this.tokens = AccessTokens.of(config.auth().token(), config.auth().readToken());
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        boolean writes = AccessTokens.writes(request.getMethod());
        if (AccessTokens.open(request.getUriInfo().getPath())
                || tokens.admits(writes, request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return Optional.empty();
        }
        String needs = writes
                ? "this endpoint needs Authorization: Bearer <token> (the value of trainer.auth.token)"
                : "reading needs Authorization: Bearer <token> (the value of trainer.auth.read-token, or of"
                        + " trainer.auth.token)";
        return Optional.of(
                Response.fromResponse(ProblemType.UNAUTHORIZED.problem(needs).asResponse())
                        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                        .build());
    }
}
