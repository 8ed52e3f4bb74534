package dev.streamtune.events;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The checksum a {@link CheckpointEvent} carries, defined once for the trainer that writes it and every reader that
 * verifies it: SHA-256 over the checkpoint folder's files in the order of their relative paths ('/'-separated),
 * each contributing its path, a zero byte, its length as 8 big-endian bytes and its content. The manifest
 * ({@value #MANIFEST}), which records the checksum, is left out. Written "sha256:" + 64 lower-case hex digits.
 */
public final class CheckpointDigest {

    /** The trainer's manifest inside every checkpoint folder. */
    public static final String MANIFEST = "checkpoint.json";

    private CheckpointDigest() {}

    public static String of(Path folder) throws IOException {
        MessageDigest digest = sha256();
        for (Path file : files(folder)) {
            String name = folder.relativize(file).toString().replace('\\', '/');
            digest.update(name.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            long size = Files.size(file);
            for (int shift = 56; shift >= 0; shift -= 8) {
                digest.update((byte) (size >>> shift));
            }
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        return "sha256:" + HexFormat.of().formatHex(digest.digest());
    }

    /** The files the checksum covers, in its order. */
    public static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile)
                    .filter(file -> !folder.relativize(file).toString().equals(MANIFEST))
                    .sorted((a, b) -> folder.relativize(a)
                            .toString()
                            .replace('\\', '/')
                            .compareTo(folder.relativize(b).toString().replace('\\', '/')))
                    .toList();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
