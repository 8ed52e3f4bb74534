package dev.streamtune.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The real models and data in ../shared (present in CI); tests that need them skip, with a message, without them. */
public final class SharedData {

    private SharedData() {
    }

    private static Path shared() {
        return Path.of(System.getProperty("streamtune.shared.dir", "../../shared")).toAbsolutePath().normalize();
    }

    /** The folder holding stories260K/, the service's model root in tests. */
    public static Path models() {
        Path models = shared().resolve("models");
        Assumptions.assumeTrue(Files.exists(models.resolve("stories260K/stories260K.bin")),
                "skipped: " + models + " is absent (the shared/ folder beside the project is not here)");
        return models;
    }

    public static Path shareGpt() {
        Path data = shared().resolve("data/sharegpt/fastchat_dummy_conversation.json");
        Assumptions.assumeTrue(Files.exists(data), "skipped: " + data + " is absent (the shared/ folder is not here)");
        return data;
    }
}
