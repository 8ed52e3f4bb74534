package dev.streamtune.localstack.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The bearer token of a stack {@code ./run-local up} keeps running: made anew at each start, as compose and
 * Kubernetes require one, so that the writes of the REST APIs (recipes, uploads, stop, resume, export) are never
 * open by default; written beside the stack's logs, readable by its owner only, for the user's curl commands.
 */
final class ApiToken {

    static final String FILE = "api-token";

    private ApiToken() {}

    /** 32 random bytes, hex: as {@code openssl rand -hex 32} makes the Kubernetes Secret's. */
    static String generate() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static Path write(Path folder, String token) throws IOException {
        Files.createDirectories(folder);
        Path file = folder.resolve(FILE);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token + "\n");
        return file;
    }
}
