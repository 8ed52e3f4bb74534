package dev.streamtune.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.streamtune.events.Topics;
import dev.streamtune.streams.KafkaSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes manifests (k8s/: a Kustomize base and its dev and prod overlays) against the services' real
 * configuration, since no cluster runs them here. Every overlay resolves with nothing dangling; every object of a
 * Kubernetes kind reads as the API's type with no field the API does not know; each service runs on the port its
 * application.properties gives, with the three probes on the Quarkus health endpoints, requests and limits, as a
 * non-root user on a read-only root filesystem, and only with environment variables its configuration reads, secrets
 * from Secrets; the topics are Topics.ALL; only the services reach Kafka and the database; format and tokenize scale
 * up to their input topic's partitions; the trainer gets a GPU (not in dev) and shares its checkpoint volume with eval;
 * Prometheus scrapes every service and the Grafana dashboard charts only meters the services register.
 */
class KubernetesManifestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path K8S = Pipeline.ROOT.resolve("k8s");
    private static final List<String> BUILDS = List.of("base", "overlays/dev", "overlays/prod");
    /** Kubernetes kinds read as the API's types; the rest are the operators' custom resources, checked by field. */
    private static final Map<String, Class<?>> TYPES = Map.of(
            "Namespace",
            Namespace.class,
            "ConfigMap",
            ConfigMap.class,
            "Secret",
            Secret.class,
            "Service",
            Service.class,
            "PersistentVolumeClaim",
            PersistentVolumeClaim.class,
            "Deployment",
            Deployment.class,
            "HorizontalPodAutoscaler",
            HorizontalPodAutoscaler.class,
            "NetworkPolicy",
            NetworkPolicy.class);

    private static final Map<String, String> CUSTOM = Map.of(
            "Kafka",
            "kafka.strimzi.io/v1beta2",
            "KafkaNodePool",
            "kafka.strimzi.io/v1beta2",
            "KafkaTopic",
            "kafka.strimzi.io/v1beta2",
            "Cluster",
            "postgresql.cnpg.io/v1",
            "ServiceMonitor",
            "monitoring.coreos.com/v1");
    /** Variables the image's launcher (run-java.sh of the UBI OpenJDK images) reads, not the service. */
    private static final Set<String> IMAGE_VARIABLES = Set.of("JAVA_MAX_MEM_RATIO", "JAVA_OPTS_APPEND");
    /** The topic each horizontally scaled stage consumes in one consumer group. */
    private static final Map<String, String> SCALED =
            Map.of("format-service", Topics.CONVERSATIONS, "tokenize-service", Topics.EXAMPLES);

    private final Map<String, List<ObjectNode>> builds = new LinkedHashMap<>();

    KubernetesManifestsTest() {
        for (String build : BUILDS) {
            builds.put(build, Kustomization.build(K8S.resolve(build)));
        }
    }

    @Test
    void everyObjectIsOfAKnownKindWithOnlyFieldsItsApiKnows() throws Exception {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            Set<String> seen = new HashSet<>();
            for (ObjectNode object : build.getValue()) {
                String kind = object.path("kind").asText();
                String name = object.path("metadata").path("name").asText();
                String where = build.getKey() + ": " + kind + " " + name;
                assertThat(seen.add(kind + "/" + name))
                        .as(where + " defined twice")
                        .isTrue();
                if (!kind.equals("Namespace")) {
                    assertThat(object.path("metadata").path("namespace").asText())
                            .as(where)
                            .isEqualTo("streamtune");
                }
                if (TYPES.containsKey(kind)) {
                    Object typed = JSON.treeToValue(object, TYPES.get(kind));
                    assertKnownFields(typed, where);
                } else {
                    assertThat(CUSTOM)
                            .as(where + ": a kind this project deploys")
                            .containsKey(kind);
                    assertThat(object.path("apiVersion").asText()).as(where).isEqualTo(CUSTOM.get(kind));
                }
            }
        }
    }

    /**
     * Where the real Kustomize is at hand ({@code kubectl kustomize}, or {@code -Dstreamtune.kubectl=/path}), it builds
     * every folder to exactly the objects this test's build makes, so the checks above judge what a cluster would get.
     */
    @Test
    void kubectlKustomizeBuildsTheSameObjects() throws Exception {
        Path kubectl = Machine.executable(System.getProperty("streamtune.kubectl"), "kubectl");
        Assumptions.assumeTrue(
                kubectl != null,
                "skipped: no kubectl on the PATH, so the manifests were built only by "
                        + "this test's Kustomization (-Dstreamtune.kubectl=/path/to/kubectl to compare with the real one)");
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            String out = Machine.run(
                    kubectl.toString(), "kustomize", K8S.resolve(build.getKey()).toString());
            assertThat(byKindAndName(Kustomization.documents(out, "kubectl kustomize " + build.getKey())))
                    .as(build.getKey() + ": kubectl's objects against this test's build")
                    .isEqualTo(byKindAndName(build.getValue()));
        }
    }

    private static Map<String, ObjectNode> byKindAndName(List<ObjectNode> objects) {
        Map<String, ObjectNode> named = new TreeMap<>();
        for (ObjectNode object : objects) {
            named.put(
                    object.path("kind").asText() + "/"
                            + object.path("metadata").path("name").asText(),
                    object);
        }
        return named;
    }

    @Test
    void theBuildRefusesWhatItCannotResolve(@TempDir Path folder) throws Exception {
        Files.writeString(folder.resolve("kustomization.yaml"), "resources:\n  - missing.yaml\n");
        assertThatThrownBy(() -> Kustomization.build(folder)).hasMessageContaining("missing.yaml does not exist");
        Files.writeString(
                folder.resolve("kustomization.yaml"),
                "resources:\n  - " + K8S.resolve("base") + "\n"
                        + "patches:\n  - target:\n      kind: Deployment\n      name: nothing-service\n"
                        + "    patch: |-\n      - op: remove\n        path: /spec/replicas\n");
        assertThatThrownBy(() -> Kustomization.build(folder)).hasMessageContaining("matches no resource");
        Files.writeString(
                folder.resolve("kustomization.yaml"),
                "resources:\n  - " + K8S.resolve("base") + "\n" + "commonLabels:\n  team: ml\n");
        assertThatThrownBy(() -> Kustomization.build(folder)).hasMessageContaining("'commonLabels' is not handled");
    }

    @Test
    void everyServiceRunsOnItsPortWithItsProbesAsANonRootUser() {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            Map<String, ObjectNode> deployments = Kustomization.byName(build.getValue(), "Deployment");
            Map<String, ObjectNode> services = Kustomization.byName(build.getValue(), "Service");
            assertThat(deployments.keySet())
                    .as(build.getKey())
                    .containsExactlyInAnyOrderElementsOf(ServiceConfiguration.SERVICES);
            for (String name : ServiceConfiguration.SERVICES) {
                String where = build.getKey() + ": " + name;
                JsonNode deployment = deployments.get(name);
                JsonNode pod = deployment.path("spec").path("template");
                assertThat(matches(
                                deployment.path("spec").path("selector"),
                                pod.path("metadata").path("labels")))
                        .as(where + ": the selector selects its own pods")
                        .isTrue();
                List<ObjectNode> containers = Kustomization.containers(deployment);
                assertThat(containers).as(where).hasSize(1);
                JsonNode container = containers.get(0);
                int port = ServiceConfiguration.port(name);
                assertThat(container.path("ports").get(0).path("containerPort").asInt())
                        .as(where)
                        .isEqualTo(port);
                assertThat(container.path("ports").get(0).path("name").asText()).isEqualTo("http");
                assertThat(container.path("image").asText()).as(where).contains("streamtune/" + name + ":");

                for (String[] probe : new String[][] {
                    {"startupProbe", "/q/health/started"},
                    {"livenessProbe", "/q/health/live"},
                    {"readinessProbe", "/q/health/ready"}
                }) {
                    JsonNode get = container.path(probe[0]).path("httpGet");
                    assertThat(get.path("path").asText())
                            .as(where + " " + probe[0])
                            .isEqualTo(probe[1]);
                    assertThat(get.path("port").asText())
                            .as(where + " " + probe[0])
                            .isEqualTo("http");
                }
                for (String resource : List.of("cpu", "memory")) {
                    assertThat(container.path("resources").path("requests").has(resource))
                            .as(where)
                            .isTrue();
                }
                assertThat(container.path("resources").path("limits").has("memory"))
                        .as(where)
                        .isTrue();

                JsonNode podSecurity = pod.path("spec").path("securityContext");
                assertThat(podSecurity.path("runAsNonRoot").asBoolean())
                        .as(where)
                        .isTrue();
                assertThat(podSecurity.path("runAsUser").asInt())
                        .as(where + ": the image's user")
                        .isEqualTo(185);
                JsonNode security = container.path("securityContext");
                assertThat(security.path("readOnlyRootFilesystem").asBoolean())
                        .as(where)
                        .isTrue();
                assertThat(security.path("allowPrivilegeEscalation").asBoolean(true))
                        .as(where)
                        .isFalse();
                assertThat(security.path("capabilities").path("drop").toString())
                        .as(where)
                        .contains("\"ALL\"");
                assertThat(mounts(deployment))
                        .as(where + ": /tmp writable (JVM, uploads, DJL's natives)")
                        .containsKey("/tmp");
                assertThat(volume(deployment, mounts(deployment).get("/tmp")).has("emptyDir"))
                        .isTrue();

                JsonNode service = services.get(name);
                assertThat(service).as(where + "'s Service").isNotNull();
                assertThat(matches(
                                service.path("spec").path("selector"),
                                pod.path("metadata").path("labels")))
                        .as(where + ": the Service selects the pods")
                        .isTrue();
                assertThat(service.path("spec")
                                .path("ports")
                                .get(0)
                                .path("port")
                                .asInt())
                        .isEqualTo(port);
                assertThat(service.path("spec")
                                .path("ports")
                                .get(0)
                                .path("targetPort")
                                .asText())
                        .isEqualTo("http");
            }
        }
    }

    @Test
    void everyVariableIsOneTheServiceReadsAndSecretsComeFromSecrets() {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            List<ObjectNode> objects = build.getValue();
            JsonNode kafka =
                    Kustomization.byName(objects, "Kafka").values().iterator().next();
            JsonNode plain = kafka.path("spec").path("kafka").path("listeners").get(0);
            String bootstrap = kafka.path("metadata").path("name").asText() + "-kafka-bootstrap:"
                    + plain.path("port").asInt();
            JsonNode database =
                    Kustomization.byName(objects, "Cluster").values().iterator().next();
            String databaseName = database.path("metadata").path("name").asText();
            String jdbc = "jdbc:postgresql://" + databaseName + "-rw:5432/"
                    + database.path("spec")
                            .path("bootstrap")
                            .path("initdb")
                            .path("database")
                            .asText();

            for (String name : ServiceConfiguration.SERVICES) {
                String where = build.getKey() + ": " + name;
                Map<String, String> environment = environment(objects, name, where);
                assertThat(ServiceConfiguration.readVariables(name))
                        .as(where + " reads every variable it is given")
                        .containsAll(environment.keySet().stream()
                                .filter(v -> !IMAGE_VARIABLES.contains(v))
                                .toList());
                assertThat(environment).as(where).containsEntry("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
                if (ServiceConfiguration.hasDatabase(name)) {
                    assertThat(environment)
                            .as(where)
                            .containsEntry("QUARKUS_DATASOURCE_JDBC_URL", jdbc)
                            .containsEntry("QUARKUS_DATASOURCE_USERNAME", "secret:" + databaseName + "-app/username")
                            .containsEntry("QUARKUS_DATASOURCE_PASSWORD", "secret:" + databaseName + "-app/password");
                }
                if (name.equals("eval-service")) {
                    // the page at /watch/ reads these through their Services
                    Map<String, ObjectNode> services = Kustomization.byName(objects, "Service");
                    for (String other : List.of("trainer-service", "format-service", "tokenize-service")) {
                        String variable =
                                "EVAL_WATCH_" + other.replace("-service", "").toUpperCase() + "_URL";
                        assertThat(services).containsKey(other);
                        assertThat(environment)
                                .as(where)
                                .containsEntry(
                                        variable,
                                        "http://" + other + ":"
                                                + services.get(other)
                                                        .path("spec")
                                                        .path("ports")
                                                        .get(0)
                                                        .path("port")
                                                        .asInt());
                    }
                }
                environment.forEach((variable, value) -> {
                    if (variable.matches("(.*_)?(PASSWORD|TOKEN|SECRET|CREDENTIALS?)(_.*)?")) {
                        assertThat(value)
                                .as(where + ": " + variable + " comes from a Secret")
                                .startsWith("secret:");
                    }
                });
            }
        }
    }

    /**
     * DJL holds tensors made from Java arrays (a model read from its files) in direct buffers, which the JVM caps at
     * the heap's size unless told: the trainer and the evaluator raise the cap above that default, keep the image's
     * own JVM options (their variable replaces the Dockerfile's), and heap plus cap fit the container's memory limit.
     */
    @Test
    void theModelServicesDirectMemoryIsRaisedWithinTheirMemoryLimit() throws Exception {
        Pattern cap = Pattern.compile("-XX:MaxDirectMemorySize=(\\d+)([kmgt]?)\\b", Pattern.CASE_INSENSITIVE);
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            for (String name : List.of("trainer-service", "eval-service")) {
                String where = build.getKey() + ": " + name;
                Map<String, String> environment = environment(build.getValue(), name, where);
                String options = environment.get("JAVA_OPTS_APPEND");
                assertThat(options).as(where + ": JAVA_OPTS_APPEND").isNotNull();
                Matcher image = Pattern.compile("(?m)^ENV JAVA_OPTS_APPEND=\"([^\"]*)\"")
                        .matcher(Files.readString(Pipeline.ROOT.resolve(name + "/src/main/docker/Dockerfile.jvm")));
                assertThat(image.find())
                        .as(name + "'s Dockerfile sets JAVA_OPTS_APPEND")
                        .isTrue();
                assertThat(options).as(where + " keeps the image's JVM options").startsWith(image.group(1));
                Matcher size = cap.matcher(options);
                assertThat(size.find()).as(where + ": " + options).isTrue();
                long direct = Long.parseLong(size.group(1))
                        << switch (size.group(2).toLowerCase()) {
                            case "k" -> 10;
                            case "m" -> 20;
                            case "g" -> 30;
                            case "t" -> 40;
                            default -> 0;
                        };
                JsonNode container = Kustomization.containers(Kustomization.byName(build.getValue(), "Deployment")
                                .get(name))
                        .get(0);
                long limit = Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(container
                                .path("resources")
                                .path("limits")
                                .path("memory")
                                .asText()))
                        .longValue();
                long heap = (long) (limit * Double.parseDouble(environment.get("JAVA_MAX_MEM_RATIO")) / 100);
                assertThat(direct)
                        .as(where + ": the cap above the default (the heap, " + heap + " bytes)")
                        .isGreaterThan(heap);
                assertThat(heap + direct)
                        .as(where + ": heap and direct memory under the limit of " + limit + " bytes")
                        .isLessThan(limit);
            }
        }
    }

    @Test
    void everySecretIsDefinedOrMadeByWhatTheReadmeSays() throws Exception {
        String readme = Files.readString(K8S.resolve("README.md"));
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            Set<String> defined =
                    Kustomization.byName(build.getValue(), "Secret").keySet();
            Set<String> referenced = new HashSet<>();
            for (ObjectNode deployment :
                    Kustomization.byName(build.getValue(), "Deployment").values()) {
                for (JsonNode container : Kustomization.containers(deployment)) {
                    for (JsonNode variable : container.path("env")) {
                        JsonNode ref = variable.path("valueFrom").path("secretKeyRef");
                        if (!ref.isMissingNode()) {
                            referenced.add(ref.path("name").asText());
                        }
                    }
                }
            }
            String database = Kustomization.byName(build.getValue(), "Cluster")
                    .keySet()
                    .iterator()
                    .next();
            referenced.removeAll(defined);
            referenced.remove(database + "-app"); // written by the CloudNativePG operator for the cluster's owner
            for (String external : referenced) {
                assertThat(readme)
                        .as(build.getKey() + ": k8s/README.md says how to create Secret " + external)
                        .contains("secret generic " + external);
            }
        }
        assertThat(Kustomization.byName(builds.get("overlays/dev"), "Secret")).containsKey("streamtune-api-token");
        assertThat(Kustomization.byName(builds.get("overlays/prod"), "Secret"))
                .as("no token in the repository for prod")
                .doesNotContainKey("streamtune-api-token");
    }

    @Test
    void theTopicsAreTheContractsOnAKraftCluster() {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            List<ObjectNode> objects = build.getValue();
            Map<String, ObjectNode> clusters = Kustomization.byName(objects, "Kafka");
            assertThat(clusters).as(build.getKey()).hasSize(1);
            String cluster = clusters.keySet().iterator().next();
            JsonNode kafka = clusters.get(cluster);
            assertThat(kafka.path("spec").has("zookeeper")).isFalse();
            assertThat(kafka.path("spec")
                            .path("kafka")
                            .path("config")
                            .path("auto.create.topics.enable")
                            .asBoolean(true))
                    .isFalse();
            Set<String> roles = new HashSet<>();
            int brokers = 0;
            for (ObjectNode pool :
                    Kustomization.byName(objects, "KafkaNodePool").values()) {
                assertThat(pool.path("metadata")
                                .path("labels")
                                .path("strimzi.io/cluster")
                                .asText())
                        .isEqualTo(cluster);
                pool.path("spec").path("roles").forEach(role -> roles.add(role.asText()));
                if (pool.path("spec").path("roles").toString().contains("broker")) {
                    brokers += pool.path("spec").path("replicas").asInt();
                }
            }
            assertThat(roles).as(build.getKey() + ": KRaft, no ZooKeeper").contains("controller", "broker");
            int minInSync = kafka.path("spec")
                    .path("kafka")
                    .path("config")
                    .path("min.insync.replicas")
                    .asInt();

            // One maximum record size: the broker and every topic accept what the services' producers send.
            assertThat(kafka.path("spec")
                            .path("kafka")
                            .path("config")
                            .path("message.max.bytes")
                            .asInt())
                    .as(build.getKey() + ": message.max.bytes")
                    .isEqualTo(KafkaSettings.MAX_RECORD_BYTES);

            Map<String, String> declared = new TreeMap<>();
            for (ObjectNode topic : Kustomization.byName(objects, "KafkaTopic").values()) {
                JsonNode spec = topic.path("spec");
                String name = spec.path("topicName")
                        .asText(topic.path("metadata").path("name").asText());
                assertThat(topic.path("metadata")
                                .path("labels")
                                .path("strimzi.io/cluster")
                                .asText())
                        .isEqualTo(cluster);
                assertThat(spec.path("replicas").asInt())
                        .as(build.getKey() + ": " + name)
                        .isLessThanOrEqualTo(brokers)
                        .isGreaterThan(minInSync == 1 ? 0 : minInSync);
                assertThat(spec.path("config").path("max.message.bytes").asInt())
                        .as(build.getKey() + ": " + name + " max.message.bytes")
                        .isEqualTo(KafkaSettings.MAX_RECORD_BYTES);
                declared.put(
                        name,
                        spec.path("partitions").asInt() + ":"
                                + spec.path("config").path("cleanup.policy").asText());
            }
            Map<String, String> expected = new TreeMap<>();
            for (Topics.TopicSpec topic : Topics.ALL) {
                expected.put(topic.name(), topic.partitions() + ":" + (topic.compacted() ? "compact" : "delete"));
            }
            assertThat(declared).as(build.getKey()).isEqualTo(expected);
        }
        JsonNode prod = Kustomization.byName(builds.get("overlays/prod"), "Kafka")
                .values()
                .iterator()
                .next();
        assertThat(prod.path("spec")
                        .path("kafka")
                        .path("config")
                        .path("min.insync.replicas")
                        .asInt())
                .isEqualTo(2);
    }

    @Test
    void onlyTheServicesReachKafkaAndOnlyThoseWithADatabaseReachIt() {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            List<ObjectNode> objects = build.getValue();
            Map<String, JsonNode> pods = new LinkedHashMap<>();
            Kustomization.byName(objects, "Deployment")
                    .forEach((name, deployment) -> pods.put(
                            name,
                            deployment
                                    .path("spec")
                                    .path("template")
                                    .path("metadata")
                                    .path("labels")));
            JsonNode stranger = JSON.createObjectNode().put("app.kubernetes.io/name", "debug-shell");

            JsonNode kafka =
                    Kustomization.byName(objects, "Kafka").values().iterator().next();
            JsonNode peers =
                    kafka.path("spec").path("kafka").path("listeners").get(0).path("networkPolicyPeers");
            assertThat(peers.size())
                    .as(build.getKey() + ": the listener admits only listed peers")
                    .isPositive();
            for (Map.Entry<String, JsonNode> pod : pods.entrySet()) {
                assertThat(admittedBy(peers, pod.getValue()))
                        .as(build.getKey() + ": " + pod.getKey() + " reaches Kafka")
                        .isTrue();
            }
            assertThat(admittedBy(peers, stranger)).isFalse();

            String database =
                    Kustomization.byName(objects, "Cluster").keySet().iterator().next();
            JsonNode policy = Kustomization.byName(objects, "NetworkPolicy").values().stream()
                    .filter(p -> p.path("spec")
                            .path("podSelector")
                            .path("matchLabels")
                            .path("cnpg.io/cluster")
                            .asText()
                            .equals(database))
                    .findFirst()
                    .orElseThrow();
            JsonNode clients = null;
            for (JsonNode rule : policy.path("spec").path("ingress")) {
                if (rule.path("ports").size() == 1
                        && rule.path("ports").get(0).path("port").asInt() == 5432) {
                    clients = rule.path("from");
                }
            }
            assertThat(clients)
                    .as(build.getKey() + ": the database's client rule")
                    .isNotNull();
            for (Map.Entry<String, JsonNode> pod : pods.entrySet()) {
                assertThat(admittedBy(clients, pod.getValue()))
                        .as(build.getKey() + ": " + pod.getKey() + " reaches the database")
                        .isEqualTo(ServiceConfiguration.hasDatabase(pod.getKey()));
            }
            assertThat(admittedBy(clients, stranger)).isFalse();
        }
    }

    @Test
    void formatAndTokenizeScaleUpToTheirPartitionsAndTheRestRunOnce() {
        Map<String, Integer> partitions = new HashMap<>();
        Topics.ALL.forEach(topic -> partitions.put(topic.name(), topic.partitions()));
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            Map<String, ObjectNode> autoscalers = Kustomization.byName(build.getValue(), "HorizontalPodAutoscaler");
            assertThat(autoscalers.keySet()).as(build.getKey()).containsExactlyInAnyOrderElementsOf(SCALED.keySet());
            for (Map.Entry<String, String> scaled : SCALED.entrySet()) {
                JsonNode spec = autoscalers.get(scaled.getKey()).path("spec");
                assertThat(spec.path("scaleTargetRef").path("kind").asText()).isEqualTo("Deployment");
                assertThat(spec.path("scaleTargetRef").path("name").asText()).isEqualTo(scaled.getKey());
                assertThat(spec.path("maxReplicas").asInt())
                        .as(build.getKey() + ": " + scaled.getKey())
                        .isEqualTo(partitions.get(scaled.getValue()));
                assertThat(spec.path("minReplicas").asInt())
                        .isBetween(1, spec.path("maxReplicas").asInt());
            }
            Map<String, ObjectNode> deployments = Kustomization.byName(build.getValue(), "Deployment");
            for (String single : List.of("trainer-service", "eval-service")) {
                assertThat(deployments.get(single).path("spec").path("replicas").asInt())
                        .isEqualTo(1);
                assertThat(deployments
                                .get(single)
                                .path("spec")
                                .path("strategy")
                                .path("type")
                                .asText())
                        .as(build.getKey() + ": " + single + " never runs twice during a rollout")
                        .isEqualTo("Recreate");
            }
        }
    }

    @Test
    void theTrainerGetsAGpuOutsideDevAndSharesItsCheckpointsWithEval() {
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            List<ObjectNode> objects = build.getValue();
            Map<String, ObjectNode> deployments = Kustomization.byName(objects, "Deployment");
            JsonNode trainer = deployments.get("trainer-service");
            JsonNode pod = trainer.path("spec").path("template").path("spec");
            JsonNode gpus = Kustomization.containers(trainer)
                    .get(0)
                    .path("resources")
                    .path("limits")
                    .path("nvidia.com/gpu");
            if (build.getKey().endsWith("dev")) {
                assertThat(gpus.isMissingNode()).as("dev trains on the CPU").isTrue();
                assertThat(pod.has("nodeSelector") || pod.has("tolerations")).isFalse();
            } else {
                assertThat(gpus.asInt()).as(build.getKey()).isEqualTo(1);
                assertThat(pod.path("tolerations").toString()).contains("nvidia.com/gpu");
                assertThat(pod.path("nodeSelector").size()).isPositive();
            }
            for (ObjectNode deployment : deployments.values()) {
                if (deployment != trainer) {
                    assertThat(Kustomization.containers(deployment)
                                    .get(0)
                                    .path("resources")
                                    .toString())
                            .doesNotContain("nvidia.com/gpu");
                }
            }

            Map<String, String> claims = new HashMap<>();
            for (String[] service : new String[][] {
                {"trainer-service", "TRAINER_CHECKPOINT_ROOT"}, {"eval-service", "EVAL_CHECKPOINT_ROOT"}
            }) {
                String where = build.getKey() + ": " + service[0];
                String root = environment(objects, service[0], where).get(service[1]);
                assertThat(root).as(where + " " + service[1]).isNotNull();
                ObjectNode deployment = deployments.get(service[0]);
                String volumeName = mounts(deployment).get(root);
                assertThat(volumeName).as(where + ": a volume at " + root).isNotNull();
                claims.put(
                        service[0],
                        volume(deployment, volumeName)
                                .path("persistentVolumeClaim")
                                .path("claimName")
                                .asText());
            }
            assertThat(claims.get("trainer-service"))
                    .as(build.getKey())
                    .isNotEmpty()
                    .isEqualTo(claims.get("eval-service"));
            JsonNode claim =
                    Kustomization.byName(objects, "PersistentVolumeClaim").get(claims.get("trainer-service"));
            assertThat(claim)
                    .as(build.getKey() + ": claim " + claims.get("trainer-service"))
                    .isNotNull();
            if (!build.getKey().endsWith("dev")) {
                assertThat(claim.path("spec").path("accessModes").toString())
                        .as(build.getKey() + ": pods on several nodes")
                        .contains("ReadWriteMany");
            }
            for (ObjectNode deployment : deployments.values()) {
                for (JsonNode volume :
                        deployment.path("spec").path("template").path("spec").path("volumes")) {
                    String claimName = volume.path("persistentVolumeClaim")
                            .path("claimName")
                            .asText(null);
                    if (claimName != null) {
                        assertThat(Kustomization.byName(objects, "PersistentVolumeClaim"))
                                .as(build.getKey())
                                .containsKey(claimName);
                    }
                }
            }
        }
    }

    @Test
    void prometheusScrapesEveryServiceAndTheDashboardChartsRealMeters() throws Exception {
        Set<String> meters = ServiceConfiguration.meterNames();
        for (Map.Entry<String, List<ObjectNode>> build : builds.entrySet()) {
            List<ObjectNode> objects = build.getValue();
            ObjectNode monitor = Kustomization.byName(objects, "ServiceMonitor")
                    .values()
                    .iterator()
                    .next();
            JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
            assertThat(endpoint.path("path").asText()).isEqualTo("/q/metrics");
            Map<String, ObjectNode> services = Kustomization.byName(objects, "Service");
            for (String name : ServiceConfiguration.SERVICES) {
                JsonNode service = services.get(name);
                assertThat(matches(
                                monitor.path("spec").path("selector"),
                                service.path("metadata").path("labels")))
                        .as(build.getKey() + ": the ServiceMonitor selects " + name)
                        .isTrue();
                assertThat(service.path("spec").path("ports").toString())
                        .contains("\"name\":\"" + endpoint.path("port").asText() + "\"");
            }

            ConfigMap dashboard = Kustomization.byName(objects, "ConfigMap").values().stream()
                    .filter(c -> c.path("metadata").path("labels").has("grafana_dashboard"))
                    .map(c -> JSON.convertValue(c, ConfigMap.class))
                    .findFirst()
                    .orElseThrow();
            JsonNode panels = JSON.readTree(
                            dashboard.getData().values().iterator().next())
                    .path("panels");
            List<String> charted = new ArrayList<>();
            for (JsonNode panel : panels) {
                for (JsonNode target : panel.path("targets")) {
                    Matcher names = Pattern.compile("\\b((?:ingest|format|tokenize|trainer|eval|stage)_[a-z0-9_]+)")
                            .matcher(target.path("expr").asText());
                    while (names.find()) {
                        charted.add(names.group(1));
                    }
                }
            }
            assertThat(charted).as(build.getKey() + ": the dashboard's meters").hasSizeGreaterThan(10);
            for (String name : charted) {
                String meter = name.replaceAll("_(total|count|sum|max|bucket)$", "");
                assertThat(meters)
                        .as(name + " in the Grafana dashboard is registered by a service")
                        .contains(meter);
            }
        }
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    /**
     * A service's environment, variable by value: its ConfigMap's entries (envFrom, which must exist) and its own
     * entries, a Secret's key written as {@code secret:name/key}.
     */
    private static Map<String, String> environment(List<ObjectNode> objects, String service, String where) {
        ObjectNode deployment = Kustomization.byName(objects, "Deployment").get(service);
        Map<String, ObjectNode> configMaps = Kustomization.byName(objects, "ConfigMap");
        Map<String, String> environment = new LinkedHashMap<>();
        JsonNode container = Kustomization.containers(deployment).get(0);
        for (JsonNode source : container.path("envFrom")) {
            String name = source.path("configMapRef").path("name").asText();
            assertThat(source.has("secretRef"))
                    .as(where + ": secrets by key, never a whole Secret")
                    .isFalse();
            assertThat(configMaps).as(where + ": ConfigMap " + name).containsKey(name);
            configMaps
                    .get(name)
                    .path("data")
                    .fields()
                    .forEachRemaining(
                            e -> environment.put(e.getKey(), e.getValue().asText()));
        }
        for (JsonNode variable : container.path("env")) {
            JsonNode secret = variable.path("valueFrom").path("secretKeyRef");
            environment.put(
                    variable.path("name").asText(),
                    secret.isMissingNode()
                            ? variable.path("value").asText()
                            : "secret:" + secret.path("name").asText() + "/"
                                    + secret.path("key").asText());
        }
        return environment;
    }

    /** The volume name mounted at each path of the workload's first container. */
    private static Map<String, String> mounts(JsonNode deployment) {
        Map<String, String> mounts = new HashMap<>();
        for (JsonNode mount : Kustomization.containers(deployment).get(0).path("volumeMounts")) {
            mounts.put(mount.path("mountPath").asText(), mount.path("name").asText());
        }
        return mounts;
    }

    private static JsonNode volume(JsonNode deployment, String name) {
        for (JsonNode volume :
                deployment.path("spec").path("template").path("spec").path("volumes")) {
            if (volume.path("name").asText().equals(name)) {
                return volume;
            }
        }
        throw new AssertionError("no volume " + name);
    }

    /** Whether NetworkPolicy peers (pod selectors in the same namespace) admit a pod with these labels. */
    private static boolean admittedBy(JsonNode peers, JsonNode labels) {
        for (JsonNode peer : peers) {
            if (peer.has("podSelector")
                    && !peer.has("namespaceSelector")
                    && matches(peer.path("podSelector"), labels)) {
                return true;
            }
        }
        return false;
    }

    /** A label selector (matchLabels and matchExpressions, or a Service's plain map) against a set of labels. */
    private static boolean matches(JsonNode selector, JsonNode labels) {
        JsonNode required = selector.has("matchLabels") || selector.has("matchExpressions")
                ? selector.path("matchLabels")
                : selector;
        for (var entry : (Iterable<Map.Entry<String, JsonNode>>) required::fields) {
            if (!labels.path(entry.getKey())
                    .asText("\0")
                    .equals(entry.getValue().asText())) {
                return false;
            }
        }
        for (JsonNode expression : selector.path("matchExpressions")) {
            String value = labels.path(expression.path("key").asText()).asText(null);
            Set<String> values = new HashSet<>();
            expression.path("values").forEach(v -> values.add(v.asText()));
            boolean ok = switch (expression.path("operator").asText()) {
                case "In" -> value != null && values.contains(value);
                case "NotIn" -> value == null || !values.contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default ->
                    throw new AssertionError(
                            "operator " + expression.path("operator").asText());
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Walks a typed object and fails on any field the API's type does not know (the model keeps such fields aside
     * instead of refusing them, so a misspelt {@code readinesProbe} would otherwise pass unseen).
     */
    private static void assertKnownFields(Object value, String where) throws ReflectiveOperationException {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                assertKnownFields(item, where + "[" + i++ + "]");
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                assertKnownFields(entry.getValue(), where + "." + entry.getKey());
            }
            return;
        }
        if (!value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0
                    || !getter.getName().startsWith("get")
                    || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object field;
            try {
                field = getter.invoke(value);
            } catch (InvocationTargetException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                assertThat((Map<?, ?>) field)
                        .as(where + ": fields its type does not know")
                        .isEmpty();
            } else {
                assertKnownFields(field, where + "." + getter.getName().substring(3));
            }
        }
    }
}
