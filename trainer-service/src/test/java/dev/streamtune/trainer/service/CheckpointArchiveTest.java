package dev.streamtune.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointArchiveTest {

    @TempDir
    Path root;

    private Path checkpoint() throws IOException {
        Path folder = Files.createDirectories(root.resolve("run-1/checkpoint-20"));
        Files.writeString(folder.resolve("checkpoint.json"), "{\"step\":20}");
        Files.write(folder.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3, 4, 5});
        Files.createDirectories(folder.resolve("state"));
        Files.writeString(folder.resolve("state/trainer_state.json"), "{}");
        return folder;
    }

    @Test
    void theArchiveHoldsTheFolderUnderItsNameAndItsDigestIsOfItsBytes() throws Exception {
        CheckpointArchive archive = CheckpointArchive.of(checkpoint());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        archive.write(bytes);

        Map<String, String> read = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                read.put(
                        entry.getName(),
                        entry.isDirectory() ? "/" : new String(tar.readAllBytes(), StandardCharsets.ISO_8859_1));
            }
        }
        assertThat(read)
                .containsExactly(
                        Map.entry("checkpoint-20/adapter_model.safetensors", "\u0001\u0002\u0003\u0004\u0005"),
                        Map.entry("checkpoint-20/checkpoint.json", "{\"step\":20}"),
                        Map.entry("checkpoint-20/state/", "/"),
                        Map.entry("checkpoint-20/state/trainer_state.json", "{}"));
        assertThat(archive.fileName()).isEqualTo("checkpoint-20.tar");
        assertThat(archive.sha256())
                .isEqualTo(HexFormat.of()
                        .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray())));
    }

    @Test
    void theSameFolderGivesTheSameBytesWhateverItsFilesTimes() throws Exception {
        Path folder = checkpoint();
        String before = CheckpointArchive.of(folder).sha256();
        Files.setLastModifiedTime(folder.resolve("checkpoint.json"), FileTime.fromMillis(1_000_000_000_000L));

        assertThat(CheckpointArchive.of(folder).sha256()).isEqualTo(before);

        Files.writeString(folder.resolve("checkpoint.json"), "{\"step\":21}");
        assertThat(CheckpointArchive.of(folder).sha256())
                .as("a changed file changes the digest")
                .isNotEqualTo(before);
    }

    @Test
    void aLinkInTheFolderIsRefusedRatherThanFollowedOutOfIt() throws Exception {
        Path folder = checkpoint();
        Path secret = Files.writeString(root.resolve("secret.txt"), "not a checkpoint's");
        Files.createSymbolicLink(folder.resolve("leak.txt"), secret);

        assertThatThrownBy(() -> CheckpointArchive.of(folder))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("leak.txt")
                .hasMessageContaining("a link?");
    }
}
