package dev.streamtune.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a Kustomize folder the way {@code kubectl kustomize} does, for the part of Kustomize this project's manifests
 * use: {@code resources} (files and folders), {@code namespace}, {@code images}, ConfigMap and Secret generators
 * without name hashes, and {@code patches} with a target and JSON 6902 operations. Anything else in a kustomization
 * is an error rather than silently ignored, as is a resource, file or patch target that does not exist.
 *
 * <p>Written here because Kustomize is a Go program with no Java port on Maven Central, and the tests must run on a
 * machine with only a JDK.
 */
final class Kustomization {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> SUPPORTED = Set.of(
            "apiVersion",
            "kind",
            "namespace",
            "resources",
            "generatorOptions",
            "configMapGenerator",
            "secretGenerator",
            "images",
            "patches");
    private static final Set<String> CLUSTER_SCOPED = Set.of(
            "Namespace",
            "PersistentVolume",
            "StorageClass",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition");

    private Kustomization() {}

    /** The objects the folder's kustomization.yaml produces, in order. */
    static List<ObjectNode> build(Path folder) {
        Path file = folder.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(folder + " has no kustomization.yaml");
        }
        JsonNode kustomization = readOne(file);
        for (Iterator<String> keys = kustomization.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!SUPPORTED.contains(key)) {
                throw new IllegalArgumentException(
                        file + ": '" + key + "' is not handled by this build; expected one of " + SUPPORTED);
            }
        }
        List<ObjectNode> objects = new ArrayList<>();
        for (JsonNode resource : kustomization.path("resources")) {
            Path path = folder.resolve(resource.asText()).normalize();
            if (Files.isDirectory(path)) {
                objects.addAll(build(path));
            } else if (Files.isRegularFile(path)) {
                objects.addAll(readAll(path));
            } else {
                throw new IllegalArgumentException(file + ": resource " + resource.asText() + " does not exist");
            }
        }
        JsonNode options = kustomization.path("generatorOptions");
        if (kustomization.has("configMapGenerator") || kustomization.has("secretGenerator")) {
            if (!options.path("disableNameSuffixHash").asBoolean(false)) {
                throw new IllegalArgumentException(
                        file + ": generated names with a hash suffix are not handled by this "
                                + "build (set generatorOptions.disableNameSuffixHash)");
            }
        }
        for (JsonNode generator : kustomization.path("configMapGenerator")) {
            objects.add(generated("ConfigMap", generator, options, folder, file));
        }
        for (JsonNode generator : kustomization.path("secretGenerator")) {
            objects.add(generated("Secret", generator, options, folder, file));
        }
        if (kustomization.has("namespace")) {
            String namespace = kustomization.path("namespace").asText();
            for (ObjectNode object : objects) {
                if (!CLUSTER_SCOPED.contains(object.path("kind").asText())) {
                    ((ObjectNode) object.path("metadata")).put("namespace", namespace);
                }
            }
        }
        for (JsonNode image : kustomization.path("images")) {
            int replaced = 0;
            for (ObjectNode object : objects) {
                for (ObjectNode container : containers(object)) {
                    String current = container.path("image").asText();
                    String name = current.replaceAll("[:@].*$", "");
                    if (name.equals(image.path("name").asText())) {
                        String tag = current.contains(":") ? current.substring(current.indexOf(':') + 1) : "latest";
                        container.put(
                                "image",
                                image.path("newName").asText(name) + ":"
                                        + image.path("newTag").asText(tag));
                        replaced++;
                    }
                }
            }
            if (replaced == 0) {
                throw new IllegalArgumentException(
                        file + ": image " + image.path("name").asText() + " is used nowhere");
            }
        }
        for (JsonNode patch : kustomization.path("patches")) {
            applyPatch(patch, objects, folder, file);
        }
        return objects;
    }

    private static ObjectNode generated(String kind, JsonNode generator, JsonNode options, Path folder, Path file) {
        ObjectNode object = YAML.createObjectNode();
        object.put("apiVersion", "v1").put("kind", kind);
        ObjectNode metadata = object.putObject("metadata");
        metadata.put("name", generator.path("name").asText());
        if (generator.has("namespace")) {
            metadata.put("namespace", generator.path("namespace").asText());
        }
        ObjectNode labels = YAML.createObjectNode();
        if (options.has("labels")) {
            labels.setAll((ObjectNode) options.path("labels"));
        }
        if (generator.path("options").has("labels")) {
            labels.setAll((ObjectNode) generator.path("options").path("labels"));
        }
        if (!labels.isEmpty()) {
            metadata.set("labels", labels);
        }
        ObjectNode data = object.putObject("data");
        for (JsonNode literal : generator.path("literals")) {
            String[] pair = literal.asText().split("=", 2);
            put(kind, data, pair[0], pair[1]);
        }
        for (JsonNode entry : generator.path("files")) {
            String spec = entry.asText();
            String key = spec.contains("=")
                    ? spec.substring(0, spec.indexOf('='))
                    : Path.of(spec).getFileName().toString();
            Path source = folder.resolve(spec.contains("=") ? spec.substring(spec.indexOf('=') + 1) : spec);
            if (!Files.isRegularFile(source)) {
                throw new IllegalArgumentException(file + ": generator "
                        + generator.path("name").asText() + " names " + source + ", which does not exist");
            }
            put(kind, data, key, read(source));
        }
        if (kind.equals("Secret")) {
            object.put("type", generator.path("type").asText("Opaque"));
        }
        return object;
    }

    private static void put(String kind, ObjectNode data, String key, String value) {
        data.put(
                key,
                kind.equals("Secret")
                        ? Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))
                        : value);
    }

    /** A patch with a target: JSON 6902 operations on every object the target selects (at least one). */
    private static void applyPatch(JsonNode patch, List<ObjectNode> objects, Path folder, Path file) {
        JsonNode target = patch.path("target");
        if (target.isMissingNode()) {
            throw new IllegalArgumentException(file + ": a patch without a target is not handled by this build");
        }
        JsonNode operations = patch.has("path")
                ? readOne(folder.resolve(patch.path("path").asText()))
                : readText(patch.path("patch").asText());
        if (!operations.isArray()) {
            throw new IllegalArgumentException(file + ": only JSON 6902 patches (a list of operations) are handled");
        }
        List<ObjectNode> selected =
                objects.stream().filter(object -> selects(target, object)).toList();
        if (selected.isEmpty()) {
            throw new IllegalArgumentException(file + ": patch target " + target + " matches no resource");
        }
        for (ObjectNode object : selected) {
            for (JsonNode operation : operations) {
                try {
                    apply(object, operation);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(
                            file + ": " + operation + " on "
                                    + object.path("kind").asText() + " "
                                    + object.path("metadata").path("name").asText() + ": " + e.getMessage(),
                            e);
                }
            }
        }
    }

    private static boolean selects(JsonNode target, JsonNode object) {
        if (target.has("kind")
                && !target.path("kind").asText().equals(object.path("kind").asText())) {
            return false;
        }
        if (target.has("name")
                && !Pattern.matches(
                        target.path("name").asText(),
                        object.path("metadata").path("name").asText())) {
            return false;
        }
        if (target.has("labelSelector")) {
            for (String requirement : target.path("labelSelector").asText().split(",")) {
                String[] pair = requirement.split("=", 2);
                if (!object.path("metadata")
                        .path("labels")
                        .path(pair[0].trim())
                        .asText()
                        .equals(pair[1].trim())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** One JSON Patch (RFC 6902) operation: add, replace or remove. */
    private static void apply(ObjectNode object, JsonNode operation) {
        String op = operation.path("op").asText();
        List<String> tokens = new ArrayList<>();
        for (String token : operation.path("path").asText().substring(1).split("/", -1)) {
            tokens.add(token.replace("~1", "/").replace("~0", "~"));
        }
        JsonNode parent = object;
        for (String token : tokens.subList(0, tokens.size() - 1)) {
            parent = parent.isArray() ? parent.path(Integer.parseInt(token)) : parent.path(token);
            if (parent.isMissingNode()) {
                throw new IllegalArgumentException(
                        "path " + operation.path("path").asText() + " does not exist");
            }
        }
        String last = tokens.get(tokens.size() - 1);
        JsonNode value = operation.path("value");
        boolean exists = parent.isArray() ? !last.equals("-") && parent.has(Integer.parseInt(last)) : parent.has(last);
        switch (op) {
            case "add" -> {
                if (parent instanceof ArrayNode array) {
                    if (last.equals("-")) {
                        array.add(value.deepCopy());
                    } else {
                        array.insert(Integer.parseInt(last), value.deepCopy());
                    }
                } else {
                    ((ObjectNode) parent).set(last, value.deepCopy());
                }
            }
            case "replace", "remove" -> {
                if (!exists) {
                    throw new IllegalArgumentException(
                            "path " + operation.path("path").asText() + " does not exist");
                }
                if (parent instanceof ArrayNode array) {
                    if (op.equals("remove")) {
                        array.remove(Integer.parseInt(last));
                    } else {
                        array.set(Integer.parseInt(last), value.deepCopy());
                    }
                } else if (op.equals("remove")) {
                    ((ObjectNode) parent).remove(last);
                } else {
                    ((ObjectNode) parent).set(last, value.deepCopy());
                }
            }
            default -> throw new IllegalArgumentException("operation '" + op + "' is not handled by this build");
        }
    }

    /** The containers (init containers included) of a workload's pod template. */
    static List<ObjectNode> containers(JsonNode object) {
        List<ObjectNode> containers = new ArrayList<>();
        JsonNode pod = object.path("spec").path("template").path("spec");
        for (String field : List.of("initContainers", "containers")) {
            pod.path(field).forEach(container -> containers.add((ObjectNode) container));
        }
        return containers;
    }

    private static List<ObjectNode> readAll(Path file) {
        return documents(read(file), file.toString());
    }

    /** The Kubernetes objects of a multi-document YAML text; {@code source} names it in errors. */
    static List<ObjectNode> documents(String yaml, String source) {
        List<ObjectNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> iterator = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (iterator.hasNext()) {
                JsonNode document = iterator.next();
                if (document == null || document.isNull() || document.isEmpty()) {
                    continue;
                }
                if (!(document instanceof ObjectNode object) || !object.has("kind") || !object.has("apiVersion")) {
                    throw new IllegalArgumentException(source + ": a document without kind and apiVersion");
                }
                documents.add(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
        return documents;
    }

    private static JsonNode readOne(Path file) {
        return readText(read(file));
    }

    private static JsonNode readText(String text) {
        try {
            return YAML.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Objects of one kind by name. */
    static Map<String, ObjectNode> byName(List<ObjectNode> objects, String kind) {
        Map<String, ObjectNode> named = new LinkedHashMap<>();
        for (ObjectNode object : objects) {
            if (object.path("kind").asText().equals(kind)) {
                named.put(object.path("metadata").path("name").asText(), object);
            }
        }
        return named;
    }
}
