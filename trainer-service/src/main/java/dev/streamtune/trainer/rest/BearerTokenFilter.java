package dev.streamtune.trainer.rest;

import dev.streamtune.streams.BearerToken;
import dev.streamtune.streams.ProblemType;
import dev.streamtune.trainer.config.TrainerConfig;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * When {@code trainer.auth.token} is set, the write endpoints (POST and DELETE) require
 * {@code Authorization: Bearer <token>}, as ingest-service's do. Reads, health and metrics stay open for probes,
 * scrapers and dashboards.
 */
public class BearerTokenFilter {

    private final BearerToken token;

    public BearerTokenFilter(TrainerConfig config) {
        this.token = BearerToken.of(config.auth().token());
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        String method = request.getMethod();
        if (!token.required()
                || !(HttpMethod.POST.equals(method) || HttpMethod.DELETE.equals(method))
                || request.getUriInfo().getPath().startsWith("/q/")) {
            return Optional.empty();
        }
        if (token.admits(request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return Optional.empty();
        }
        return Optional.of(Response.fromResponse(ProblemType.UNAUTHORIZED
                        .problem("this endpoint needs Authorization: Bearer <token> (the value of trainer.auth.token)")
                        .asResponse())
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build());
    }
}
