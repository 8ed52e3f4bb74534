package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.streams.AccessTokens;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The service's roles ({@link AccessTokens}): when {@code ingest.auth.token} is set, every endpoint that changes
 * something needs {@code Authorization: Bearer <token>}; when {@code ingest.auth.read-token} is set, the reads do
 * too (either token). Health and metrics under /q/ stay open for probes and scrapers.
 */
public class BearerTokenFilter {

    private final AccessTokens tokens;

    public BearerTokenFilter(IngestConfig config) {
        this.tokens = AccessTokens.of(config.auth().token(), config.auth().readToken());
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        return tokens.refusal(request, "ingest");
    }
}
