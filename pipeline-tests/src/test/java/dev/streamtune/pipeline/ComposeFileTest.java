package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.streamtune.events.Topics;
import dev.streamtune.streams.KafkaSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml against the services' real configuration, since no Docker engine runs it here: every service
 * is built from its module's Dockerfile (a non-root JVM image), publishes the port its application.properties
 * gives, is checked on {@code /q/health/ready} at that port, and sets only environment variables its configuration
 * reads; the topics are created exactly as {@link Topics#ALL} says; trainer and evaluator share the checkpoint
 * volume where their settings point; Prometheus scrapes every service.
 */
class ComposeFileTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final List<String> SERVICES = ServiceConfiguration.SERVICES;

    private final JsonNode compose = read(Pipeline.ROOT.resolve("docker-compose.yml"));

    /**
     * Where Docker Compose is installed (no engine is needed for this), it reads the file and resolves it to the
     * same services, volumes and environments this test checks. Compose v1 (Debian's docker-compose 1.29) predates
     * the Compose Specification's top-level {@code name}: it is given the file without that one line.
     */
    @Test
    void dockerComposeResolvesTheFileToTheServicesCheckedHere(@TempDir Path folder) throws Exception {
        Path program = Machine.executable(System.getProperty("streamtune.docker-compose"), "docker-compose");
        Assumptions.assumeTrue(
                program != null,
                "skipped: no docker-compose on the PATH, so only"
                        + " this test's checks read docker-compose.yml (Debian: apt-get install docker-compose; or"
                        + " -Dstreamtune.docker-compose=/path)");
        String version = Machine.run(program.toString(), "version", "--short");
        Path file = folder.resolve("docker-compose.yml");
        String text = Files.readString(Pipeline.ROOT.resolve("docker-compose.yml"));
        Files.writeString(file, version.trim().startsWith("1.") ? text.replaceAll("(?m)^name: .*\n", "") : text);

        // The API tokens are required (${...:?...}): the file does not resolve without them.
        Path tokens = folder.resolve("tokens.env");
        Files.writeString(
                tokens,
                TOKENS.entrySet().stream()
                        .map(token -> token.getKey() + "=" + token.getValue() + "\n")
                        .collect(Collectors.joining()));
        if (TOKENS.keySet().stream().noneMatch(token -> System.getenv(token) != null)) {
            assertThatThrownBy(() -> Machine.run(
                            program.toString(),
                            "-f",
                            file.toString(),
                            "--project-directory",
                            folder.toString(),
                            "config"))
                    .as("docker-compose.yml without the API tokens")
                    .hasMessageContaining("bearer token");
        }
        JsonNode resolved = YAML.readTree(Machine.run(
                program.toString(),
                "-f",
                file.toString(),
                "--project-directory",
                Pipeline.ROOT.toString(),
                "--env-file",
                tokens.toString(),
                "config"));

        assertThat(fieldNames(resolved.path("services")))
                .as("services")
                .isEqualTo(fieldNames(compose.path("services")));
        assertThat(fieldNames(resolved.path("volumes"))).as("volumes").isEqualTo(fieldNames(compose.path("volumes")));
        for (String service : SERVICES) {
            JsonNode environment = resolved.path("services").path(service).path("environment");
            compose.path("services")
                    .path(service)
                    .path("environment")
                    .fields()
                    .forEachRemaining(variable -> assertThat(
                                    environment.path(variable.getKey()).asText())
                            .as(service + " " + variable.getKey())
                            .isEqualTo(interpolated(variable.getValue().asText())));
            assertThat(resolved.path("services")
                            .path(service)
                            .path("build")
                            .path("context")
                            .asText())
                    .as(service + "'s build context")
                    .isEqualTo(Pipeline.ROOT.resolve(service).toString());
        }
    }

    /** What the test gives Compose for the variables the file requires. */
    private static final Map<String, String> TOKENS =
            Map.of("INGEST_AUTH_TOKEN", "ingest-test-token", "TRAINER_AUTH_TOKEN", "trainer-test-token");

    @Test
    void writesNeedATokenTheFileRequires() {
        assertThat(compose.path("services")
                        .path("ingest-service")
                        .path("environment")
                        .path("INGEST_AUTH_TOKEN")
                        .asText())
                .startsWith("${INGEST_AUTH_TOKEN:?");
        assertThat(compose.path("services")
                        .path("trainer-service")
                        .path("environment")
                        .path("TRAINER_AUTH_TOKEN")
                        .asText())
                .startsWith("${TRAINER_AUTH_TOKEN:?");
    }

    /**
     * {@code ${NAME:-default}} as Compose substitutes it from the environment this test runs in; a required
     * {@code ${NAME:?message}} from the tokens the test gives it.
     */
    private static String interpolated(String value) {
        Matcher variable = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?}")
                .matcher(value);
        StringBuilder out = new StringBuilder();
        while (variable.find()) {
            if ("?".equals(variable.group(2))) {
                variable.appendReplacement(out, Matcher.quoteReplacement(TOKENS.get(variable.group(1))));
                continue;
            }
            String set = System.getenv(variable.group(1));
            String replacement =
                    set != null && !set.isEmpty() ? set : variable.group(3) == null ? "" : variable.group(3);
            variable.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        return variable.appendTail(out).toString();
    }

    private static TreeSet<String> fieldNames(JsonNode node) {
        TreeSet<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void everyServiceIsBuiltPublishedAndCheckedOnItsOwnPort() throws IOException {
        for (String service : SERVICES) {
            JsonNode definition = compose.path("services").path(service);
            assertThat(definition.isMissingNode())
                    .as(service + " in docker-compose.yml")
                    .isFalse();
            int port = ServiceConfiguration.port(service);

            Path dockerfile = Pipeline.ROOT
                    .resolve(definition.path("build").path("context").asText())
                    .resolve(definition.path("build").path("dockerfile").asText())
                    .normalize();
            assertThat(dockerfile).as(service + "'s Dockerfile").exists().startsWith(Pipeline.ROOT.resolve(service));
            String image = Files.readString(dockerfile);
            assertThat(image).contains("COPY --chown=185 target/quarkus-app/", "EXPOSE " + port + "\n");
            assertThat(image).containsPattern("(?m)^USER (?!0\\b|root\\b)\\S+$");

            assertThat(definition.path("ports").get(0).asText()).isEqualTo(port + ":" + port);
            assertThat(definition.path("healthcheck").path("test").toString())
                    .contains("http://localhost:" + port + "/q/health/ready");
            assertThat(definition
                            .path("depends_on")
                            .path("kafka-topics")
                            .path("condition")
                            .asText())
                    .isEqualTo("service_completed_successfully");
        }
    }

    @Test
    void everyEnvironmentVariableIsOneTheServiceReads() throws Exception {
        for (String service : SERVICES) {
            Set<String> read = ServiceConfiguration.readVariables(service);
            JsonNode environment = compose.path("services").path(service).path("environment");
            List<String> names = new ArrayList<>();
            environment.fieldNames().forEachRemaining(names::add);
            assertThat(names).as(service + "'s environment").isNotEmpty();
            assertThat(read)
                    .as(service + " reads every variable docker-compose.yml sets")
                    .containsAll(names);
            assertThat(environment.path("KAFKA_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
            if (ServiceConfiguration.hasDatabase(service)) {
                assertThat(environment.path("QUARKUS_DATASOURCE_JDBC_URL").asText())
                        .isEqualTo("jdbc:postgresql://postgres:5432/streamtune");
                assertThat(compose.path("services")
                                .path(service)
                                .path("depends_on")
                                .path("postgres")
                                .path("condition")
                                .asText())
                        .isEqualTo("service_healthy");
            }
        }
    }

    @Test
    void thePageReadsTheOtherServicesWhereTheyListen() {
        JsonNode environment = compose.path("services").path("eval-service").path("environment");
        for (String service : List.of("trainer-service", "format-service", "tokenize-service")) {
            String variable = "EVAL_WATCH_" + service.replace("-service", "").toUpperCase() + "_URL";
            assertThat(environment.path(variable).asText())
                    .as(variable)
                    .isEqualTo("http://" + service + ":" + ServiceConfiguration.port(service));
        }
    }

    @Test
    void theTopicsAreCreatedAsTheContractsDefineThem() {
        String command =
                compose.path("services").path("kafka-topics").path("command").toString();
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
        assertThat(compose.path("services")
                        .path("kafka")
                        .path("environment")
                        .path("KAFKA_AUTO_CREATE_TOPICS_ENABLE")
                        .asText())
                .isEqualTo("false");
    }

    @Test
    void theBrokerAndEveryTopicAcceptTheLargestRecordTheServicesSend() {
        assertThat(compose.path("services")
                        .path("kafka")
                        .path("environment")
                        .path("KAFKA_MESSAGE_MAX_BYTES")
                        .asText())
                .isEqualTo(String.valueOf(KafkaSettings.MAX_RECORD_BYTES));
        String command =
                compose.path("services").path("kafka-topics").path("command").toString();
        assertThat(command).contains("--config max.message.bytes=" + KafkaSettings.MAX_RECORD_BYTES);
        // No service sets a max.request.size of its own: every producer sends up to the one maximum.
        for (String service : ServiceConfiguration.SERVICES) {
            assertThat(compose.path("services")
                            .path(service)
                            .path("environment")
                            .path("KAFKA_MAX_REQUEST_SIZE")
                            .isMissingNode())
                    .as(service)
                    .isTrue();
        }
    }

    @Test
    void trainerAndEvaluatorShareTheCheckpointVolumeWhereTheirSettingsPoint() {
        for (String[] service :
                new String[][] {{"trainer-service", "TRAINER_CHECKPOINT_ROOT"}, {"eval-service", "EVAL_CHECKPOINT_ROOT"}
                }) {
            JsonNode definition = compose.path("services").path(service[0]);
            String root = definition.path("environment").path(service[1]).asText();
            assertThat(definition.path("volumes").toString()).as(service[0]).contains("\"checkpoints:" + root + "\"");
        }
        assertThat(compose.path("volumes").has("checkpoints")).isTrue();
    }

    @Test
    void prometheusScrapesEveryService() throws IOException {
        String volume = compose.path("services")
                .path("prometheus")
                .path("volumes")
                .get(0)
                .asText();
        JsonNode prometheus = read(Pipeline.ROOT.resolve(volume.substring(0, volume.indexOf(':'))));
        Map<String, String> targets = new LinkedHashMap<>();
        for (JsonNode job : prometheus.path("scrape_configs")) {
            assertThat(job.path("metrics_path").asText()).isEqualTo("/q/metrics");
            targets.put(
                    job.path("job_name").asText(),
                    job.path("static_configs").get(0).path("targets").get(0).asText());
        }
        for (String service : SERVICES) {
            assertThat(targets).containsEntry(service, service + ":" + ServiceConfiguration.port(service));
        }
    }

    private static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
