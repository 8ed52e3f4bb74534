package dev.streamtune.trainer.rest;

import dev.streamtune.streams.AccessTokens;
import dev.streamtune.trainer.config.TrainerConfig;
import jakarta.ws.rs.container.ContainerRequestContext;
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
        return tokens.refusal(request, "trainer");
    }
}
