package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.streams.BearerToken;
import dev.streamtune.streams.ProblemType;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * When {@code ingest.auth.token} is set, the write endpoints (POST under /datasets) require
 * {@code Authorization: Bearer <token>}. Reads, health and metrics stay open for probes and scrapers.
 */
public class BearerTokenFilter {

    private final BearerToken token;

    public BearerTokenFilter(IngestConfig config) {
        this.token = BearerToken.of(config.auth().token());
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        if (!token.required()
                || !HttpMethod.POST.equals(request.getMethod())
                || !request.getUriInfo().getPath().startsWith("/datasets")) {
            return Optional.empty();
        }
        if (token.admits(request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return Optional.empty();
        }
        return Optional.of(Response.fromResponse(ProblemType.UNAUTHORIZED
                        .problem("this endpoint needs Authorization: Bearer <token> (the value of ingest.auth.token)")
                        .asResponse())
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build());
    }
}
