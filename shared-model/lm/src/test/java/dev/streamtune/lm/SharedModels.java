package dev.streamtune.lm;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The real models in ../shared (present in CI); tests that need them skip, with a message, without them. */
public final class SharedModels {

    private SharedModels() {
    }

    public static Path require(String relative) {
        Path file = Path.of(System.getProperty("streamtune.shared.dir", "../../../shared")).toAbsolutePath().normalize()
                .resolve(relative);
        Assumptions.assumeTrue(Files.exists(file),
                "skipped: " + file + " is absent (the shared/ folder beside the project is not here)");
        return file;
    }
}
