package dev.streamtune.localstack.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.common.Uuid;

/**
 * Entry point of the broker's child JVM: formats the KRaft storage if it is new, then runs {@code kafka.Kafka}.
 *
 * <p>It also makes sure no broker outlives the JVM that started it. The parent holds this process's stdin open
 * for as long as it lives; when the parent dies, even by SIGKILL where its shutdown hooks never run, the pipe
 * closes, the read below returns end-of-stream, and the broker exits through Kafka's own clean shutdown hook.
 *
 * <p>Usage: {@code KafkaBrokerMain <server.properties> [<scram credentials>]}, the optional file holding one
 * {@code --add-scram} value a line (e.g. {@code SCRAM-SHA-512=[name=alice,password=secret]}), written into new storage.
 */
public final class KafkaBrokerMain {

    private KafkaBrokerMain() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: KafkaBrokerMain <server.properties> [<scram credentials>]");
            System.exit(2);
        }
        exitWhenParentGoesAway(System.in);
        Path config = Path.of(args[0]);
        List<String> scramCredentials = args.length == 2 ? Files.readAllLines(Path.of(args[1])) : List.of();
        formatStorageIfNew(config, scramCredentials);
        kafka.Kafka.main(new String[] {config.toString()});
    }

    private static void formatStorageIfNew(Path config, List<String> scramCredentials) throws IOException {
        Properties settings = new Properties();
        try (Reader reader = Files.newBufferedReader(config)) {
            settings.load(reader);
        }
        String logDirs = settings.getProperty("log.dirs", settings.getProperty("log.dir", ""));
        if (!logDirs.isBlank() && Files.exists(Path.of(logDirs.split(",")[0].trim(), "meta.properties"))) {
            return; // formatted before: the broker restarts with its cluster id and data
        }
        String clusterId = Uuid.randomUuid().toString();
        // --ignore-formatted keeps a persistent log directory (the local run's) across restarts.
        List<String> format =
                new ArrayList<>(List.of("format", "--ignore-formatted", "-t", clusterId, "-c", config.toString()));
        for (String credential : scramCredentials) {
            if (!credential.isBlank()) {
                format.add("--add-scram");
                format.add(credential.trim());
            }
        }
        int status = kafka.tools.StorageTool.execute(format.toArray(String[]::new), System.out);
        if (status != 0) {
            System.err.println("KRaft storage format failed with status " + status + " for " + config + ": "
                    + withoutSecrets(Files.readAllLines(config)));
            System.exit(status);
        }
    }

    private static void exitWhenParentGoesAway(InputStream parentPipe) {
        Thread watcher = new Thread(
                () -> {
                    try {
                        while (parentPipe.read() != -1) {
                            // The parent never writes; anything read is ignored.
                        }
                    } catch (IOException ignored) {
                        // A broken pipe means the same as end-of-stream.
                    }
                    System.out.println("KafkaBrokerMain: parent process is gone, shutting the broker down");
                    System.exit(0);
                },
                "parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** The settings for an error message, with every password and login line's value blanked: it ends up in logs. */
    static String withoutSecrets(List<String> lines) {
        List<String> shown = new ArrayList<>();
        for (String line : lines) {
            int equals = line.indexOf('=');
            String key = equals < 0 ? "" : line.substring(0, equals).toLowerCase(Locale.ROOT);
            boolean secret = key.contains("password") || key.contains("jaas");
            shown.add(secret ? line.substring(0, equals + 1) + "(hidden)" : line);
        }
        return String.join(System.lineSeparator(), shown);
    }
}
