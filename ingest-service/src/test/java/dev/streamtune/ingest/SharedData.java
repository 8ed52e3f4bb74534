package dev.streamtune.ingest;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The project's shared real data (../shared), present in CI, absent from a user's fresh clone. */
public final class SharedData {

    private SharedData() {
    }

    public static Path dir() {
        return Path.of(System.getProperty("streamtune.shared.dir", "../shared")).toAbsolutePath().normalize();
    }

    /** The file, or the test is skipped with a message saying what is missing. */
    public static Path require(String relative) {
        Path file = dir().resolve(relative);
        Assumptions.assumeTrue(Files.isRegularFile(file),
                "skipped: real data " + file + " is absent (the shared/ folder beside the project is not here)");
        return file;
    }
}
