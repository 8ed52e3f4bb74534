package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.streamtune.events.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml against the services' real configuration, since no Docker engine runs it here: every service
 * is built from its module's Dockerfile (a non-root JVM image), publishes the port its application.properties
 * gives, is checked on {@code /q/health/ready} at that port, and sets only environment variables its configuration
 * reads; the topics are created exactly as {@link Topics#ALL} says; trainer and evaluator share the checkpoint
 * volume where their settings point; Prometheus scrapes every service.
 */
class ComposeFileTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final List<String> SERVICES = List.of("ingest-service", "format-service", "tokenize-service",
            "trainer-service", "eval-service");
    /** The typed configuration (a @ConfigMapping interface's source) of the services that have one, by prefix. */
    private static final Map<String, Map<String, String>> CONFIG_MAPPINGS = Map.of(
            "ingest-service", Map.of("ingest", "dev/streamtune/ingest/config/IngestConfig.java"),
            "trainer-service", Map.of("trainer", "dev/streamtune/trainer/config/TrainerConfig.java"),
            "eval-service", Map.of("eval", "dev/streamtune/eval/config/EvalConfig.java"));

    private final JsonNode compose = read(Pipeline.ROOT.resolve("docker-compose.yml"));

    @Test
    void everyServiceIsBuiltPublishedAndCheckedOnItsOwnPort() throws IOException {
        for (String service : SERVICES) {
            JsonNode definition = compose.path("services").path(service);
            assertThat(definition.isMissingNode()).as(service + " in docker-compose.yml").isFalse();
            int port = Integer.parseInt(properties(service).getProperty("quarkus.http.port"));

            Path dockerfile = Pipeline.ROOT.resolve(definition.path("build").path("context").asText())
                    .resolve(definition.path("build").path("dockerfile").asText()).normalize();
            assertThat(dockerfile).as(service + "'s Dockerfile").exists()
                    .startsWith(Pipeline.ROOT.resolve(service));
            String image = Files.readString(dockerfile);
            assertThat(image).contains("COPY --chown=185 target/quarkus-app/", "EXPOSE " + port + "\n");
            assertThat(image).containsPattern("(?m)^USER (?!0\\b|root\\b)\\S+$");

            assertThat(definition.path("ports").get(0).asText()).isEqualTo(port + ":" + port);
            assertThat(definition.path("healthcheck").path("test").toString())
                    .contains("http://localhost:" + port + "/q/health/ready");
            assertThat(definition.path("depends_on").path("kafka-topics").path("condition").asText())
                    .isEqualTo("service_completed_successfully");
        }
    }

    @Test
    void everyEnvironmentVariableIsOneTheServiceReads() throws Exception {
        for (String service : SERVICES) {
            Set<String> read = readVariables(service);
            JsonNode environment = compose.path("services").path(service).path("environment");
            List<String> names = new ArrayList<>();
            environment.fieldNames().forEachRemaining(names::add);
            assertThat(names).as(service + "'s environment").isNotEmpty();
            assertThat(read).as(service + " reads every variable docker-compose.yml sets").containsAll(names);
            assertThat(environment.path("KAFKA_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
            if (properties(service).getProperty("quarkus.datasource.db-kind") != null) {
                assertThat(environment.path("QUARKUS_DATASOURCE_JDBC_URL").asText())
                        .isEqualTo("jdbc:postgresql://postgres:5432/streamtune");
                assertThat(compose.path("services").path(service).path("depends_on").path("postgres")
                        .path("condition").asText()).isEqualTo("service_healthy");
            }
        }
    }

    @Test
    void theTopicsAreCreatedAsTheContractsDefineThem() {
        String command = compose.path("services").path("kafka-topics").path("command").toString();
        Matcher specs = Pattern.compile("([a-z-]+):(\\d+):(compact|delete)").matcher(command);
        Map<String, String> created = new LinkedHashMap<>();
        while (specs.find()) {
            created.put(specs.group(1), specs.group(2) + ":" + specs.group(3));
        }
        Map<String, String> expected = new LinkedHashMap<>();
        for (Topics.TopicSpec topic : Topics.ALL) {
            expected.put(topic.name(), topic.partitions() + ":" + (topic.compacted() ? "compact" : "delete"));
        }
        assertThat(created).containsExactlyInAnyOrderEntriesOf(expected);
        assertThat(compose.path("services").path("kafka").path("environment").path("KAFKA_AUTO_CREATE_TOPICS_ENABLE")
                .asText()).isEqualTo("false");
    }

    @Test
    void trainerAndEvaluatorShareTheCheckpointVolumeWhereTheirSettingsPoint() {
        for (String[] service : new String[][] {{"trainer-service", "TRAINER_CHECKPOINT_ROOT"},
                {"eval-service", "EVAL_CHECKPOINT_ROOT"}}) {
            JsonNode definition = compose.path("services").path(service[0]);
            String root = definition.path("environment").path(service[1]).asText();
            assertThat(definition.path("volumes").toString()).as(service[0]).contains("\"checkpoints:" + root + "\"");
        }
        assertThat(compose.path("volumes").has("checkpoints")).isTrue();
    }

    @Test
    void prometheusScrapesEveryService() throws IOException {
        String volume = compose.path("services").path("prometheus").path("volumes").get(0).asText();
        JsonNode prometheus = read(Pipeline.ROOT.resolve(volume.substring(0, volume.indexOf(':'))));
        Map<String, String> targets = new LinkedHashMap<>();
        for (JsonNode job : prometheus.path("scrape_configs")) {
            assertThat(job.path("metrics_path").asText()).isEqualTo("/q/metrics");
            targets.put(job.path("job_name").asText(), job.path("static_configs").get(0).path("targets").get(0).asText());
        }
        for (String service : SERVICES) {
            assertThat(targets).containsEntry(service, service + ":" + properties(service).getProperty("quarkus.http.port"));
        }
    }

    /**
     * The variables a service reads: those its application.properties names ({@code ${NAME:...}}), and every
     * configuration key (its own and its typed mapping's) in the environment-variable form MicroProfile Config maps
     * to it (upper case, other characters as '_').
     */
    private static Set<String> readVariables(String service) throws IOException {
        Set<String> variables = new HashSet<>();
        String text = Files.readString(Pipeline.ROOT.resolve(service + "/src/main/resources/application.properties"));
        Matcher references = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(text);
        while (references.find()) {
            variables.add(references.group(1));
        }
        for (Object key : properties(service).keySet()) {
            String name = key.toString();
            variables.add(environmentName(name.startsWith("%") ? name.substring(name.indexOf('.') + 1) : name));
        }
        for (Map.Entry<String, String> mapping : CONFIG_MAPPINGS.getOrDefault(service, Map.of()).entrySet()) {
            Path source = Pipeline.ROOT.resolve(service + "/src/main/java/" + mapping.getValue());
            Map<String, List<String[]>> interfaces = interfaces(Files.readAllLines(source));
            String root = source.getFileName().toString().replace(".java", "");
            for (String key : keys(mapping.getKey(), root, interfaces)) {
                variables.add(environmentName(key));
            }
        }
        return variables;
    }

    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)");
    private static final Pattern METHOD = Pattern.compile("^\\s*([\\w.<>?, \\[\\]]+?)\\s+(\\w+)\\(\\);");

    /**
     * The methods (type, name) of each interface of a @ConfigMapping source, read from the source: its classes
     * reference Quarkus types this module's classpath does not have, so reflection cannot load them.
     */
    private static Map<String, List<String[]>> interfaces(List<String> lines) {
        Map<String, List<String[]>> interfaces = new LinkedHashMap<>();
        java.util.Deque<String> open = new java.util.ArrayDeque<>();
        java.util.Deque<Integer> depths = new java.util.ArrayDeque<>();
        int depth = 0;
        for (String line : lines) {
            Matcher declared = INTERFACE.matcher(line);
            if (declared.find() && !line.trim().startsWith("*") && !line.trim().startsWith("//")) {
                open.push(declared.group(1));
                depths.push(depth);
                interfaces.put(declared.group(1), new ArrayList<>());
            } else if (!open.isEmpty()) {
                Matcher method = METHOD.matcher(line);
                if (method.find() && depth == depths.peek() + 1) {
                    interfaces.get(open.peek()).add(new String[] {method.group(1).trim(), method.group(2)});
                }
            }
            for (char c : line.toCharArray()) {
                if (c == '{') {
                    depth++;
                } else if (c == '}') {
                    depth--;
                    if (!depths.isEmpty() && depth == depths.peek()) {
                        open.pop();
                        depths.pop();
                    }
                }
            }
        }
        return interfaces;
    }

    /** The keys under a mapping interface: its methods in kebab case, nested groups recursively. */
    private static List<String> keys(String prefix, String type, Map<String, List<String[]>> interfaces) {
        List<String> keys = new ArrayList<>();
        for (String[] method : interfaces.getOrDefault(type, List.of())) {
            String key = prefix + "." + method[1].replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
            if (interfaces.containsKey(method[0])) {
                keys.addAll(keys(key, method[0], interfaces));
            } else {
                keys.add(key);
            }
        }
        return keys;
    }

    private static String environmentName(String key) {
        return key.toUpperCase().replaceAll("[^A-Z0-9]", "_");
    }

    private static Properties properties(String service) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Pipeline.ROOT.resolve(service + "/src/main/resources/application.properties"))) {
            properties.load(reader);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return properties;
    }

    private static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
