package dev.streamtune.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The real models and data of the {@code shared/} folder beside the project (present in CI, absent from a user's
 * fresh clone). The build names it in the system property {@code streamtune.shared.dir}; run from an IDE, it is found
 * beside the project root above the working directory. A test that needs something absent is skipped, saying what.
 */
public final class SharedData {

    public static final String PROPERTY = "streamtune.shared.dir";

    private SharedData() {}

    /** The shared folder, whether or not it is there. */
    public static Path dir() {
        String given = System.getProperty(PROPERTY);
        if (given != null) {
            return Path.of(given).toAbsolutePath().normalize();
        }
        Path here = Path.of("").toAbsolutePath();
        for (Path folder = here; folder != null; folder = folder.getParent()) {
            if (Files.isRegularFile(folder.resolve("mvnw"))) {
                return folder.resolveSibling("shared").normalize();
            }
        }
        return here.resolveSibling("shared").normalize();
    }

    /** {@code relative} under the shared folder, or the test is skipped with a message naming what is missing. */
    public static Path require(String relative) {
        Path file = dir().resolve(relative);
        Assumptions.assumeTrue(
                Files.exists(file),
                "skipped: " + file + " is absent (the shared/ folder beside the project is not here)");
        return file;
    }

    /** The models folder, holding stories260K/ and tiny-gpt2/: the services' model root in tests. */
    public static Path models() {
        return require("models/stories260K/stories260K.bin").getParent().getParent();
    }

    /**
     * The models folder when it is there: for a test that does more with the models than without them (it still
     * skips the part that needs them, through {@link #models()}).
     */
    public static Optional<Path> modelsIfPresent() {
        Path folder = dir().resolve("models");
        return Files.exists(folder.resolve("stories260K/stories260K.bin")) ? Optional.of(folder) : Optional.empty();
    }

    /** The 500 real ShareGPT conversations. */
    public static Path shareGpt() {
        return require("data/sharegpt/fastchat_dummy_conversation.json");
    }
}
