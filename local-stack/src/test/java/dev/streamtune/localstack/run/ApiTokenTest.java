package dev.streamtune.localstack.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiTokenTest {

    @TempDir
    Path folder;

    @Test
    void eachStackGetsItsOwnTokenReadableByItsOwnerOnly() throws Exception {
        String token = ApiToken.generate();
        assertThat(token).matches("[0-9a-f]{64}").isNotEqualTo(ApiToken.generate());

        Path file = ApiToken.write(folder.resolve("up"), token);
        Path again = ApiToken.write(folder.resolve("up"), ApiToken.generate());

        assertThat(again).isEqualTo(file);
        assertThat(Files.readString(file).strip()).hasSize(64).isNotEqualTo(token);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
    }
}
