package dev.streamtune.trainer.rest;

import dev.streamtune.trainer.config.TrainerConfig;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * When {@code trainer.auth.token} is set, the write endpoints (POST and DELETE) require
 * {@code Authorization: Bearer <token>}, as ingest-service's do. Reads, health and metrics stay open for probes,
 * scrapers and dashboards.
 */
public class BearerTokenFilter {

    private final Optional<byte[]> token;

    public BearerTokenFilter(TrainerConfig config) {
        this.token = config.auth().token().filter(t -> !t.isBlank()).map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        String method = request.getMethod();
        if (token.isEmpty() || !(HttpMethod.POST.equals(method) || HttpMethod.DELETE.equals(method))
                || request.getUriInfo().getPath().startsWith("/q/")) {
            return Optional.empty();
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        byte[] presented = header != null && header.startsWith("Bearer ")
                ? header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (MessageDigest.isEqual(presented, token.get())) { // constant time
            return Optional.empty();
        }
        return Optional.of(Response.fromResponse(ErrorMappers.error(401, "this endpoint needs Authorization: Bearer"
                + " <token> (the value of trainer.auth.token)")).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer").build());
    }
}
