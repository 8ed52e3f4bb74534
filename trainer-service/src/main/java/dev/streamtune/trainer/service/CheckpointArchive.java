package dev.streamtune.trainer.service;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A checkpoint folder as one tar, for download. The same folder always gives the same bytes (entries in path order,
 * owner 0, times at the epoch, fixed modes), so the archive's SHA-256 can be stated before it is sent and checked by
 * whoever receives it ({@code sha256sum -c}). Only directories and regular files are archived: a folder holding a
 * symbolic link or anything else is refused, since a link could send out a file from outside the checkpoint.
 */
public final class CheckpointArchive {

    private final Path folder;
    private final List<Path> entries;

    private CheckpointArchive(Path folder, List<Path> entries) {
        this.folder = folder;
        this.entries = entries;
    }

    /** The folder's archive. */
    public static CheckpointArchive of(Path folder) throws IOException {
        if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(folder + " is not a checkpoint folder");
        }
        List<Path> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted().toList()) {
                if (path.equals(folder)) {
                    continue;
                }
                if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                        && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(folder.relativize(path) + " in " + folder
                            + " is neither a file nor a folder (a link?); a checkpoint holds only files");
                }
                entries.add(path);
            }
        }
        return new CheckpointArchive(folder, List.copyOf(entries));
    }

    /** The name the archive is offered under: the checkpoint folder's, with .tar. */
    public String fileName() {
        return folder.getFileName() + ".tar";
    }

    /** Writes the archive; the top folder inside it is the checkpoint folder's name. */
    public void write(OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        String top = folder.getFileName().toString();
        for (Path path : entries) {
            String name = top + "/" + folder.relativize(path).toString().replace('\\', '/');
            boolean directory = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            TarArchiveEntry entry = new TarArchiveEntry(directory ? name + "/" : name);
            entry.setModTime(0);
            entry.setUserId(0);
            entry.setGroupId(0);
            entry.setUserName("");
            entry.setGroupName("");
            entry.setMode(directory ? TarArchiveEntry.DEFAULT_DIR_MODE : TarArchiveEntry.DEFAULT_FILE_MODE);
            if (!directory) {
                entry.setSize(Files.size(path));
            }
            tar.putArchiveEntry(entry);
            if (!directory) {
                Files.copy(path, tar);
            }
            tar.closeArchiveEntry();
        }
        tar.finish(); // the end-of-archive blocks; the caller owns the stream
        tar.flush();
    }

    /** The archive's SHA-256, in hex: the folder is read once to compute it, without keeping the archive. */
    public String sha256() throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
        try (DigestOutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
            write(out);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
