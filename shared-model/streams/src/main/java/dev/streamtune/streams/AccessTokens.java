package dev.streamtune.streams;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.Optional;

/**
 * A service's two optional roles, each a bearer token: {@code write} for the endpoints that change something, and
 * {@code read} for the ones that only show. A write token also reads (whoever may submit a recipe may look at it).
 * With no read token, reads are open, as they were before roles existed; with no write token, writes are too.
 * Health and metrics are never asked for a token: probes and scrapers reach them without secrets.
 */
public final class AccessTokens {

    private final BearerToken write;
    private final BearerToken read;

    private AccessTokens(BearerToken write, BearerToken read) {
        this.write = write;
        this.read = read;
    }

    public static AccessTokens of(Optional<String> writeToken, Optional<String> readToken) {
        return new AccessTokens(BearerToken.of(writeToken), BearerToken.of(readToken));
    }

    /**
     * Whether a request with this {@code Authorization} header (null when absent) may go on.
     *
     * @param writes whether the request changes something (POST, PUT, PATCH, DELETE)
     */
    public boolean admits(boolean writes, String authorization) {
        if (writes) {
            return write.admits(authorization);
        }
        return !read.required() || read.admits(authorization) || (write.required() && write.admits(authorization));
    }

    /**
     * What a service's request filter answers: nothing for a request these roles admit (or one for health and
     * metrics), else a 401 problem naming the setting whose token it needs.
     *
     * @param settings the prefix of the service's settings, e.g. "trainer" for trainer.auth.token
     */
    public Optional<Response> refusal(ContainerRequestContext request, String settings) {
        boolean writes = writes(request.getMethod());
        if (open(request.getUriInfo().getPath())
                || admits(writes, request.getHeaderString(HttpHeaders.AUTHORIZATION))) {
            return Optional.empty();
        }
        String needs = writes
                ? "this endpoint needs Authorization: Bearer <token> (the value of " + settings + ".auth.token)"
                : "reading needs Authorization: Bearer <token> (the value of " + settings + ".auth.read-token, or of "
                        + settings + ".auth.token)";
        return Optional.of(
                Response.fromResponse(ProblemType.UNAUTHORIZED.problem(needs).asResponse())
                        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                        .build());
    }

    /** Whether a request of this HTTP method changes something. */
    public static boolean writes(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS" -> false;
            default -> true;
        };
    }

    /** Whether the path is the service's health or metrics, which stay open. */
    public static boolean open(String path) {
        String relative = path.startsWith("/") ? path : "/" + path;
        return relative.startsWith("/q/");
    }
}
