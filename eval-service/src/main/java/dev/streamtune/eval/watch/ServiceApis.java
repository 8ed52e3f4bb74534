package dev.streamtune.eval.watch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.eval.config.EvalConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The other services' REST APIs, read for the page: each answer as JSON, or, when a service does not answer (not
 * deployed, restarting, too slow), an object saying so, so that one absent service greys out one panel rather than
 * the page.
 */
@ApplicationScoped
public class ServiceApis {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EvalConfig config;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public ServiceApis(EvalConfig config) {
        this.config = config;
    }

    public JsonNode trainer(String path) {
        return get(
                "trainer-service",
                config.watch().trainerUrl(),
                path,
                config.watch().trainerToken());
    }

    public JsonNode format(String path) {
        return get("format-service", config.watch().formatUrl(), path, Optional.empty());
    }

    public JsonNode tokenize(String path) {
        return get("tokenize-service", config.watch().tokenizeUrl(), path, Optional.empty());
    }

    /** The runs of one recipe in trainer-service's {@code GET /runs} answer, newest first (empty when there is none). */
    static List<JsonNode> runsOf(JsonNode allRuns, String recipeId) {
        List<JsonNode> runs = new ArrayList<>();
        if (allRuns != null && allRuns.isArray()) {
            allRuns.forEach(run -> {
                if (recipeId.equals(run.path("recipeId").asText())) {
                    runs.add(run);
                }
            });
        }
        runs.sort((a, b) ->
                b.path("createdAt").asText().compareTo(a.path("createdAt").asText()));
        return runs;
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode get(String service, String base, String path, Optional<String> token) {
        URI uri = URI.create(base.replaceAll("/+$", "") + path);
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(config.watch().timeout())
                    .header("Accept", "application/json");
            token.filter(t -> !t.isBlank()).ifPresent(t -> request.header("Authorization", "Bearer " + t));
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                return JSON.readTree(response.body());
            }
            return unavailable(
                    service,
                    uri,
                    response.statusCode() == 404 ? "not found there" : "answered " + response.statusCode());
        } catch (IOException e) {
            return unavailable(
                    service, uri, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable(service, uri, "interrupted");
        }
    }

    private static ObjectNode unavailable(String service, URI uri, String why) {
        return JsonNodeFactory.instance.objectNode().put("unavailable", service + " at " + uri + ": " + why);
    }
}
