package dev.streamtune.streams;

import java.util.Locale;
import java.util.Map;

/**
 * The kinds of error the services answer, each with its status and a title that stays the same from one
 * occurrence to the next, so that a client can branch on {@link #uri()} rather than on the words of a detail.
 */
public enum ProblemType {

    /** The request itself is wrong: a parameter, a body, a name. */
    INVALID_REQUEST(400, "Invalid request"),
    /** A recipe that fails its checks; the body lists every problem under {@code problems}. */
    RECIPE_REFUSED(400, "Recipe refused"),
    /** A write endpoint called without the configured bearer token. */
    UNAUTHORIZED(401, "Unauthorized"),
    NOT_FOUND(404, "Not found"),
    /** The request contradicts what the service already holds (a dataset's split, a run's state). */
    CONFLICT(409, "Conflict"),
    /** A body or record over a configured size limit. */
    CONTENT_TOO_LARGE(413, "Content too large"),
    /** The service failed at something the request could not have avoided (writing a file). */
    INTERNAL_ERROR(500, "Internal error"),
    /** A platform dependency (Kafka, the database) is not answering; the same request may succeed later. */
    UNAVAILABLE(503, "Service unavailable");

    private static final String URN_PREFIX = "urn:streamtune:problem:";

    private final int status;
    private final String title;

    ProblemType(int status, String title) {
        this.status = status;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** The problem's {@code type} member, for example {@code urn:streamtune:problem:not-found}. */
    public String uri() {
        return URN_PREFIX + name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** This kind of problem, with what went wrong this time. */
    public Problem problem(String detail) {
        return new Problem(uri(), title, status, detail, null, Map.of());
    }
}
