package dev.streamtune.pipeline;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the services' own sources say about how they run, for the tests that hold deployment files to it
 * (docker-compose.yml, the Kubernetes manifests): each service's HTTP port, whether it has a database, and every
 * environment variable its configuration reads.
 */
final class ServiceConfiguration {

    static final List<String> SERVICES =
            List.of("ingest-service", "format-service", "tokenize-service", "trainer-service", "eval-service");

    /** The typed configuration (a @ConfigMapping interface's source) of the services that have one, by prefix. */
    private static final Map<String, Map<String, String>> CONFIG_MAPPINGS = Map.of(
            "ingest-service", Map.of("ingest", "dev/streamtune/ingest/config/IngestConfig.java"),
            "format-service", Map.of("format", "dev/streamtune/format/config/FormatConfig.java"),
            "tokenize-service", Map.of("tokenize", "dev/streamtune/tokenize/config/TokenizeConfig.java"),
            "trainer-service", Map.of("trainer", "dev/streamtune/trainer/config/TrainerConfig.java"),
            "eval-service", Map.of("eval", "dev/streamtune/eval/config/EvalConfig.java"));

    private ServiceConfiguration() {}

    static int port(String service) {
        return Integer.parseInt(properties(service).getProperty("quarkus.http.port"));
    }

    static boolean hasDatabase(String service) {
        return properties(service).getProperty("quarkus.datasource.db-kind") != null;
    }

    /**
     * The variables a service reads: those its application.properties names ({@code ${NAME:...}}), and every
     * configuration key (its own and its typed mapping's) in the environment-variable form MicroProfile Config maps
     * to it (upper case, other characters as '_').
     */
    static Set<String> readVariables(String service) {
        Set<String> variables = new HashSet<>();
        String text = read(Pipeline.ROOT.resolve(service + "/src/main/resources/application.properties"));
        Matcher references = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(text);
        while (references.find()) {
            variables.add(references.group(1));
        }
        for (Object key : properties(service).keySet()) {
            String name = key.toString();
            variables.add(environmentName(name.startsWith("%") ? name.substring(name.indexOf('.') + 1) : name));
        }
        for (Map.Entry<String, String> mapping :
                CONFIG_MAPPINGS.getOrDefault(service, Map.of()).entrySet()) {
            Path source = Pipeline.ROOT.resolve(service + "/src/main/java/" + mapping.getValue());
            Map<String, List<String[]>> interfaces =
                    interfaces(read(source).lines().toList());
            String root = source.getFileName().toString().replace(".java", "");
            for (String key : keys(mapping.getKey(), root, interfaces)) {
                variables.add(environmentName(key));
            }
        }
        return variables;
    }

    /**
     * The names of the meters the services register (Micrometer's builders and the services' gauge helpers), in
     * Prometheus' form without a unit or type suffix: dots as '_', a counter's {@code _total} removed.
     */
    static Set<String> meterNames() {
        Set<String> names = new HashSet<>();
        Pattern registration = Pattern.compile("(?:builder|gauge)\\(\\s*\"([a-z][a-z0-9_.]*)\"");
        // a name given once as a constant and registered by it: builder(LAG, ...)
        Pattern byConstant = Pattern.compile("(?:builder|gauge)\\(\\s*([A-Z][A-Z0-9_]*)\\b");
        Pattern constant = Pattern.compile("static final String ([A-Z][A-Z0-9_]*) = \"([a-z][a-z0-9_.]*)\";");
        List<Path> roots = new ArrayList<>();
        SERVICES.forEach(service -> roots.add(Pipeline.ROOT.resolve(service + "/src/main/java")));
        roots.add(Pipeline.ROOT.resolve("shared-model/streams/src/main/java"));
        for (Path root : roots) {
            try (var files = Files.walk(root)) {
                for (Path file :
                        files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    String source = read(file);
                    Map<String, String> constants = new HashMap<>();
                    Matcher declared = constant.matcher(source);
                    while (declared.find()) {
                        constants.put(declared.group(1), declared.group(2));
                    }
                    List<String> registered = new ArrayList<>();
                    Matcher found = registration.matcher(source);
                    while (found.find()) {
                        registered.add(found.group(1));
                    }
                    Matcher byName = byConstant.matcher(source);
                    while (byName.find()) {
                        if (constants.containsKey(byName.group(1))) {
                            registered.add(constants.get(byName.group(1)));
                        }
                    }
                    for (String name : registered) {
                        names.add(name.replace('.', '_').replaceAll("_total$", ""));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return names;
    }

    private static final Pattern INTERFACE = Pattern.compile("\\binterface\\s+(\\w+)");
    private static final Pattern METHOD = Pattern.compile("^\\s*([\\w.<>?, \\[\\]]+?)\\s+(\\w+)\\(\\);");

    /**
     * The methods (type, name) of each interface of a @ConfigMapping source, read from the source: its classes
     * reference Quarkus types this module's classpath does not have, so reflection cannot load them.
     */
    private static Map<String, List<String[]>> interfaces(List<String> lines) {
        Map<String, List<String[]>> interfaces = new LinkedHashMap<>();
        Deque<String> open = new ArrayDeque<>();
        Deque<Integer> depths = new ArrayDeque<>();
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
                    interfaces
                            .get(open.peek())
                            .add(new String[] {method.group(1).trim(), method.group(2)});
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
            String key = prefix + "."
                    + method[1].replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
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

    static Properties properties(String service) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(
                Pipeline.ROOT.resolve(service + "/src/main/resources/application.properties"))) {
            properties.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
