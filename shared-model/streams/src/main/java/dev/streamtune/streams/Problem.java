package dev.streamtune.streams;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The body of every error a service answers over HTTP: an RFC 9457 problem detail, sent as
 * {@value #MEDIA_TYPE}. {@code type} names the kind of error for programs, {@code title} says it for people and
 * never changes for a type, {@code detail} says what went wrong this time and what to do about it. Members a kind
 * of error adds (a refused recipe's every problem, an interrupted ingestion's partial receipt) sit beside these, as
 * the RFC's extension members.
 *
 * @param instance this occurrence's URI reference; omitted when there is none
 * @param extensions the kind's extra members, written at the top level of the body
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
        String type,
        String title,
        int status,
        String detail,
        String instance,
        @JsonAnyGetter Map<String, Object> extensions) {

    /** RFC 9457's media type; the services' JSON writer accepts it as JSON through its {@code +json} suffix. */
    public static final String MEDIA_TYPE = "application/problem+json";

    public Problem {
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    /** The same problem with one more extension member; a null value is left out, as absent members are. */
    public Problem with(String member, Object value) {
        if (value == null) {
            return this;
        }
        Map<String, Object> more = new LinkedHashMap<>(extensions);
        more.put(member, value);
        return new Problem(type, title, status, detail, instance, more);
    }

    /** The HTTP response that carries this problem: its status, {@value #MEDIA_TYPE}, this body. */
    public Response asResponse() {
        return Response.status(status).type(MEDIA_TYPE).entity(this).build();
    }
}
