package dev.streamtune.ingest.rest;

import dev.streamtune.ingest.config.IngestConfig;
import dev.streamtune.ingest.filter.MetadataPredicate;
import dev.streamtune.ingest.filter.RecordFilter;
import dev.streamtune.ingest.format.FieldMapping;
import dev.streamtune.ingest.format.FormatOptions;
import dev.streamtune.ingest.format.RecordFormat;
import dev.streamtune.ingest.format.RoleNames;
import dev.streamtune.ingest.normalize.NormalizationPolicy;
import dev.streamtune.ingest.pipeline.IngestOptions;
import dev.streamtune.ingest.reader.ContainerFormat;
import dev.streamtune.ingest.split.SplitPolicy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the ingestion options from query parameters, with the service's defaults for what is not given. Unknown
 * parameters are refused rather than ignored: a misspelt {@code splt=80/20} must not silently ingest with 90/10.
 */
@ApplicationScoped
public class IngestOptionsParser {

    static final Set<String> PARAMETERS = new TreeSet<>(Set.of(
            "format",
            "container",
            "map",
            "role",
            "split",
            "seed",
            "requireAssistantLast",
            "sameRole",
            "filter",
            "lang",
            "minTurns",
            "maxTurns",
            "maxChars",
            "oasstPaths",
            "nearDuplicates",
            "nearDuplicateThreshold",
            "source",
            "path"));

    private final IngestConfig config;

    public IngestOptionsParser(IngestConfig config) {
        this.config = config;
    }

    public IngestOptions parse(MultivaluedMap<String, String> query, ContainerFormat impliedContainer) {
        for (String name : query.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw new InvalidRequestException("unknown query parameter '" + name + "'; known: " + PARAMETERS);
            }
        }
        try {
            FormatOptions format = new FormatOptions(
                    RecordFormat.parse(query.getFirst("format")),
                    FieldMapping.parse(all(query, "map")),
                    RoleNames.withOverrides(all(query, "role")),
                    FormatOptions.OasstPaths.parse(query.getFirst("oasstPaths")));
            ContainerFormat container = ContainerFormat.parse(query.getFirst("container"));
            NormalizationPolicy normalization = new NormalizationPolicy(
                    bool(query, "requireAssistantLast", config.defaults().requireAssistantLast()),
                    NormalizationPolicy.SameRole.parse(
                            or(query, "sameRole", config.defaults().sameRole())));
            RecordFilter filter = new RecordFilter(
                    all(query, "filter").stream().map(MetadataPredicate::parse).toList(),
                    query.getFirst("lang"),
                    integer(query, "minTurns"),
                    integer(query, "maxTurns"),
                    integer(query, "maxChars"));
            long seed = query.containsKey("seed")
                    ? Long.parseLong(query.getFirst("seed"))
                    : config.defaults().seed();
            SplitPolicy split =
                    SplitPolicy.parse(or(query, "split", config.defaults().split()), seed);
            Double threshold = null;
            if (bool(query, "nearDuplicates", false) || query.containsKey("nearDuplicateThreshold")) {
                threshold = query.containsKey("nearDuplicateThreshold")
                        ? Double.parseDouble(query.getFirst("nearDuplicateThreshold"))
                        : config.nearDuplicates().threshold();
                if (threshold <= 0 || threshold > 1) {
                    throw new IllegalArgumentException("nearDuplicateThreshold must be in (0, 1], got " + threshold);
                }
            }
            return new IngestOptions(
                    format,
                    container != null ? container : impliedContainer,
                    normalization,
                    filter,
                    split,
                    query.containsKey("split") || query.containsKey("seed"),
                    threshold);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("a numeric query parameter is not a number: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(e.getMessage());
        }
    }

    private static List<String> all(MultivaluedMap<String, String> query, String name) {
        List<String> values = query.get(name);
        return values == null ? List.of() : values;
    }

    private static String or(MultivaluedMap<String, String> query, String name, String fallback) {
        String value = query.getFirst(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private static Integer integer(MultivaluedMap<String, String> query, String name) {
        String value = query.getFirst(name);
        return value == null || value.isBlank() ? null : Integer.valueOf(value.trim());
    }

    private static boolean bool(MultivaluedMap<String, String> query, String name, boolean fallback) {
        String value = query.getFirst(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false, got '" + value + "'");
        };
    }
}
