package dev.streamtune.localstack.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.Uuid;

/**
 * Entry point of the broker's child JVM: formats the KRaft storage if it is new, then runs {@code kafka.Kafka}.
 *
 * <p>It also makes sure no broker outlives the JVM that started it. The parent holds this process's stdin open
 * for as long as it lives; when the parent dies, even by SIGKILL where its shutdown hooks never run, the pipe
 * closes, the read below returns end-of-stream, and the broker exits through Kafka's own clean shutdown hook.
 *
 * <p>Usage: {@code KafkaBrokerMain <server.properties>}
 */
public final class KafkaBrokerMain {

    private KafkaBrokerMain() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: KafkaBrokerMain <server.properties>");
            System.exit(2);
        }
        exitWhenParentGoesAway(System.in);
        Path config = Path.of(args[0]);
        formatStorageIfNew(config);
        kafka.Kafka.main(new String[] {config.toString()});
    }

    private static void formatStorageIfNew(Path config) throws IOException {
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
        int status = kafka.tools.StorageTool.execute(
                new String[] {"format", "--ignore-formatted", "-t", clusterId, "-c", config.toString()}, System.out);
        if (status != 0) {
            System.err.println("KRaft storage format failed with status " + status + " for " + config + ": "
                    + Files.readString(config));
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
}
